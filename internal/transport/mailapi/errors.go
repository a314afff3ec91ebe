package mailapi

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// Error is a failed API request: the service's reply, or a network failure.
// It answers the same questions as transport.Error, which the delivery
// engine branches on: Temporary, AuthFailure, SettingsProblem, Uncertain,
// NotSent; and RetryAfter and DailyLimit, which say how long to wait.
type Error struct {
	API     string // "Microsoft Graph sendMail", "Gmail API users.messages.send"
	Status  int    // HTTP status; 0 when no reply came
	Code    string // the service's error code: "ErrorAccessDenied", "rateLimitExceeded"
	Message string // the service's message
	Class   transport.Class
	Advice  string // what to do; "" when nothing specific is known
	Err     error  // the network failure or the token source's error

	retryAfter time.Duration
	throttled  bool
	daily      bool
	uncertain  bool
	notSent    bool
	settings   bool
}

func (e *Error) Error() string {
	var sb strings.Builder
	sb.WriteString(e.API)
	sb.WriteString(": ")
	switch {
	case e.Status != 0:
		fmt.Fprintf(&sb, "HTTP %d", e.Status)
		if e.Code != "" {
			sb.WriteString(" " + e.Code)
		}
		if e.Message != "" {
			sb.WriteString(": " + e.Message)
		}
	case e.Err != nil:
		sb.WriteString(e.Err.Error())
	default:
		sb.WriteString(e.Message)
	}
	if e.Advice != "" {
		sb.WriteString(". ")
		sb.WriteString(e.Advice)
	}
	return sb.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether trying again later can succeed (429, 503,
// network trouble before the request was written, quotas that reset).
func (e *Error) Temporary() bool { return e.Class == transport.Temporary }

// AuthFailure reports whether the service refused the account's token or
// its right to send: the message was not taken.
func (e *Error) AuthFailure() bool { return e.Class == transport.Auth }

// Permanent reports whether this message will never go through as is.
func (e *Error) Permanent() bool { return e.Class == transport.Permanent }

// SettingsProblem reports a refusal that only a change of the tenant's,
// the app's or the account's settings cures; a new token does not.
func (e *Error) SettingsProblem() bool { return e.settings }

// Throttled reports whether the service is limiting the account.
func (e *Error) Throttled() bool { return e.throttled }

// DailyLimit reports whether the account's daily sending window is spent:
// every further message would be refused until RetryAfter has passed.
func (e *Error) DailyLimit() bool { return e.daily }

// RetryAfter is how long the service asked to wait (Retry-After, or the
// time in Gmail's "Retry after …"); 0 when it did not say.
func (e *Error) RetryAfter() time.Duration { return e.retryAfter }

// Uncertain reports whether the request was written and no verdict came
// back (the connection broke, a gateway timed out): the service may have
// sent the message, so sending it again could deliver it twice.
func (e *Error) Uncertain() bool { return e.uncertain }

// NotSent reports whether the request never left (it may go again at once).
func (e *Error) NotSent() bool { return e.notSent }

// ExitCode makes commands exit as on an SMTP refusal: 2 when settings
// must change, 4 when a new sign-in is what helps, else 1.
func (e *Error) ExitCode() int {
	switch {
	case e.settings:
		return exitcode.Usage
	case e.Class == transport.Auth:
		return exitcode.SignIn
	}
	return exitcode.Error
}

// networkError is a request that got no reply: not sent when it broke
// before the request was written, else uncertain.
func networkError(api string, err error, wrote bool) *Error {
	e := &Error{API: api, Class: transport.Temporary, Err: err}
	if wrote {
		e.uncertain = true
		e.Advice = "The connection failed after the message was handed over and before the service answered: " +
			"it may have been sent, so bluemoon records it as unknown rather than sending it twice"
	} else {
		e.notSent = true
	}
	return e
}

// tokenError wraps a token source failure: a person must sign in (the
// engine pauses the run) or the sign-in server could not be reached.
func tokenError(api string, err error) *Error {
	e := &Error{API: api, Err: fmt.Errorf("get access token: %w", err), Class: transport.Temporary, notSent: true}
	var si interface{ NeedsSignIn() bool }
	var cfg interface{ ExitCode() int }
	switch {
	case errors.As(err, &si) && si.NeedsSignIn():
		e.Class = transport.Auth
	case errors.As(err, &cfg) && cfg.ExitCode() == exitcode.Usage:
		e.Class, e.settings = transport.Auth, true
	}
	return e
}

// tooLarge refuses a message before any request.
func tooLarge(api string, size, limit int, what string) *Error {
	return &Error{API: api, Class: transport.Permanent,
		Message: fmt.Sprintf("the message is %d bytes, over the limit of %d bytes (%s)", size, limit, what),
		Advice:  "Make the attachments smaller, or send large messages from an account --via smtp"}
}
