package cli

import (
	"context"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/keepalive"
)

// Hooks from automatic delivery (run, schedule, serve, keepalive) to the
// sign-in and SMTP code. Each is nil until that code is wired here; a nil
// hook makes the step fail with a clear "not available in this build".
var (
	// refreshToken forces a token refresh for acct; the token source saves
	// a rotated refresh token before returning. Errors needing a person
	// implement NeedsSignIn() and ExitCode() 4. unattended: never prompt or
	// open a browser.
	refreshToken func(ctx context.Context, app *App, acct *account.Account, unattended bool) error

	// tokenAge reads, from the token store, when acct signed in and last
	// refreshed (for the lifetime warnings).
	tokenAge func(ctx context.Context, app *App, acct *account.Account) (keepalive.TokenAge, error)

	// sendTestMessage sends a test message from acct to its own address.
	sendTestMessage func(ctx context.Context, app *App, acct *account.Account, unattended bool) error

	// alertMailer sends alert e-mails through another account.
	alertMailer func(app *App) alert.Mailer
)
