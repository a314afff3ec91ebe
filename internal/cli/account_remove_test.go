package cli

import (
	"context"
	"errors"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

// Removing an account while another process is refreshing its token (and
// so holds the token's lock, about to save a rotated one) must not leave
// that token behind for a later account of the same name.
func TestAccountRemoveWaitsForARefreshInFlight(t *testing.T) {
	home := t.TempDir()
	t.Setenv(secrets.KeyringEnv, "off")
	addAccount(t, home, "sales", account.AuthXOAuth2)
	st, err := secrets.Open(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := oauth.SaveToken(st, "sales", &oauth.Token{AccessToken: "at-1", RefreshToken: "rt-1"}); err != nil {
		t.Fatal(err)
	}
	// The "other process": a refresh holding the lock.
	unlock, err := st.Lock(context.Background(), oauth.SecretName("sales"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan result, 1)
	go func() { done <- runCLI(t, home, "", "account", "remove", "sales") }()
	// Wait until the removal has deleted the account row, then let the
	// refresh save its rotated token and release the lock.
	for runCLI(t, home, "", "account", "show", "sales").Code == 0 {
	}
	if err := oauth.SaveToken(st, "sales", &oauth.Token{AccessToken: "at-2", RefreshToken: "rt-2"}); err != nil {
		t.Fatal(err)
	}
	unlock()
	if r := <-done; r.Code != 0 {
		t.Fatalf("account remove: exit %d\n%s", r.Code, r.Stderr)
	}
	if _, err := oauth.LoadToken(st, "sales"); !errors.Is(err, oauth.ErrNoToken) {
		t.Fatalf("the removed account's tokens are still stored (err %v)", err)
	}
}
