package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/keepalive"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/testsend"
)

// Hooks from automatic delivery (run, schedule, serve, keepalive) to the
// sign-in (signin.go, internal/oauth) and SMTP code (testsend.go). They are
// variables so that tests can replace them.
var (
	// refreshToken forces a token refresh for acct; the token source saves
	// a rotated refresh token before returning. Errors needing a person
	// implement NeedsSignIn() and ExitCode() 4. unattended: never prompt or
	// open a browser.
	refreshToken = func(ctx context.Context, app *App, acct *account.Account, unattended bool) error {
		if !unattended {
			// A person is here: let the sign-in ask and run if one is needed.
			if _, err := app.tokenSource(ctx, acct, false); err != nil {
				return err
			}
		}
		// Exactly one forced refresh: it proves the refresh token works and
		// resets the provider's idle clock; the source saves the rotated one.
		src, _, err := app.newSource(ctx, acct)
		if err != nil {
			return err
		}
		_, err = src.Refresh(ctx)
		return err
	}

	// tokenAge reads, from the token store, when acct signed in and last
	// refreshed (for the lifetime warnings).
	tokenAge = func(ctx context.Context, app *App, acct *account.Account) (keepalive.TokenAge, error) {
		st, err := app.secretStore()
		if err != nil {
			return keepalive.TokenAge{}, err
		}
		tok, err := oauth.LoadToken(st, acct.Name)
		if err != nil {
			return keepalive.TokenAge{}, err
		}
		last := tok.LastRefreshed
		if tok.RefreshTokenAt.After(last) {
			last = tok.RefreshTokenAt
		}
		return keepalive.TokenAge{Provider: tok.Provider, Obtained: tok.ObtainedAt, LastRefreshed: last}, nil
	}

	// sendTestMessage sends a test message from acct to its own address, and
	// records it with the other test sends.
	sendTestMessage = func(ctx context.Context, app *App, acct *account.Account, unattended bool) error {
		started := time.Now()
		reply, err := app.testSend(ctx, acct, testsend.Request{
			Account: acct, To: acct.From,
			Subject: "bluemoon keep-alive (" + acct.Name + ")",
			Text: fmt.Sprintf("bluemoon の自動テスト送信（キープアライブ）です。アカウント %s のサインインを維持しています。\n"+
				"This is bluemoon's automatic keep-alive test message for account %s: it keeps the sign-in alive.\n", acct.Name, acct.Name),
		}, unattended)
		if db, derr := app.DB(ctx); derr == nil {
			if rerr := testsend.Record(ctx, db.DB, testsend.ResultOf(acct.Name, acct.From, started, reply, err)); rerr != nil {
				app.Logger().Warn("keep-alive: record the test send", "err", rerr)
			}
		}
		return err
	}
)

// accountMailer sends an alert as a plain-text message through a bluemoon
// account, never waiting for a person (an alert is sent by a job nobody watches).
type accountMailer struct{ app *App }

func (m accountMailer) SendAlert(ctx context.Context, name, to, subject, body string) error {
	db, err := m.app.DB(ctx)
	if err != nil {
		return err
	}
	acct, err := (&account.Store{DB: db.DB}).Get(ctx, name)
	if err != nil {
		if errors.Is(err, account.ErrNotFound) {
			return &exitcode.UsageError{Err: fmt.Errorf("--notify-account: %w", err)}
		}
		return err
	}
	_, err = m.app.testSend(ctx, acct, testsend.Request{Account: acct, To: to, Subject: subject, Text: body}, true)
	return err
}
