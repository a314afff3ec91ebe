package cli

import (
	"errors"
	"fmt"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/oauth"
)

// The exit code comes from the error's type, not from words that happen to
// appear in its text: a sign-in needed stays 4 and a network error stays 1
// whatever the server or the advice said.
func TestExitCodeIsNotGuessedFromErrorText(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{&oauth.ReauthError{Account: "a", Reason: oauth.ReasonRefused,
			Why: "the authorization server refused the refresh token (invalid_grant: invalid argument: grant revoked); it has expired or was revoked."}, 4},
		{fmt.Errorf("test send through a to b@example.com failed: %w", &oauth.ReauthError{Account: "a",
			Why: "the server accepts only tokens issued to this app."}), 4},
		{errors.New("dial tcp 127.0.0.1:587: connect: invalid argument"), 1},
		{errors.New("smtp.example.com:587: AUTH: 550 5.7.30 Microsoft no longer accepts passwords"), 1},
		{exitWith(5), 5},
		{errors.New(`accepts 1 arg(s), received 0`), 2},
		{errors.New(`unknown command "x" for "bluemoon"`), 2},
		{errors.New(`required flag(s) "out" not set`), 2},
	}
	for _, c := range cases {
		if got := codeFor(c.err); got != c.want {
			t.Errorf("%q: exit %d, want %d", c.err, got, c.want)
		}
	}
}
