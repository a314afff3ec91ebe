package cli

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/testsend"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

func init() { register(testSendCmd) }

// tokenSourceFor gives an XOAUTH2 account its token source, signing in
// first when needed (confirming unless the account turned that off) and,
// when unattended, failing with a sign-in-needed error (exit 4) instead of
// waiting. The sign-in code (signin.go) sets it to app.tokenSource.
var tokenSourceFor func(app *App, ctx context.Context, acct *account.Account, unattended bool) (transport.TokenSource, error)

func testSendCmd(app *App) *cobra.Command {
	var to, subject, text, charset string
	var unattended bool
	cmd := &cobra.Command{
		Use:   "test-send ACCOUNT --to ADDRESS",
		Short: "Send one test message through an account (signs in first if needed)",
		Long: `test-send sends one message through ACCOUNT to check its settings and sign-in
(テスト送信), prints the server's final reply, and records the result.
Run it after every change to an account. With --unattended (timers, cron) it
never waits for a person: if a sign-in is needed it exits with code 4.`,
		Example: `  bluemoon test-send sales --to me@example.com
  bluemoon test-send sales --to me@example.com --charset iso-2022-jp --subject "テスト"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if to == "" {
				return exitcode.Usagef("--to ADDRESS is required (where the test message goes)")
			}
			if a, err := mail.ParseAddress(to); err != nil || a.Address != to {
				return exitcode.Usagef("--to %q is not an e-mail address (give it bare, like me@example.com)", to)
			}
			cs, err := message.NormalizeCharset(charset)
			if err != nil {
				return exitcode.Usagef("--charset: %w", err)
			}
			acct, err := app.account(ctx, args[0])
			if err != nil {
				return err
			}
			db, err := app.DB(ctx)
			if err != nil {
				return err
			}
			started := time.Now()
			reply, err := app.testSend(ctx, acct, testsend.Request{
				Account: acct, To: to, Subject: subject, Text: text, Charset: cs,
			}, unattended)
			res := testsend.ResultOf(acct.Name, to, started, reply, err)
			if rerr := testsend.Record(ctx, db.DB, res); rerr != nil {
				app.Warnf("bluemoon: %v\n", rerr)
			}
			if err != nil {
				err = fmt.Errorf("test send through %s to %s failed: %w", acct.Name, to, err)
				var ce *message.CharsetError
				if errors.As(err, &ce) { // the text given, not the server
					return &exitcode.UsageError{Err: err}
				}
				return err
			}
			app.Printf("%s\n", reply)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "recipient of the test message (required)")
	f.StringVar(&subject, "subject", "", "subject (default: \"bluemoon テスト送信 / test send (ACCOUNT)\")")
	f.StringVar(&text, "text", "", "body text (default: a short note saying where it came from)")
	f.StringVar(&charset, "charset", "utf-8", "utf-8 or iso-2022-jp")
	f.BoolVar(&unattended, "unattended", false, "never wait for a person: exit 4 if a sign-in is needed")
	return cmd
}

// testSend gets the account's credentials and sends.
func (app *App) testSend(ctx context.Context, acct *account.Account, req testsend.Request, unattended bool) (transport.Reply, error) {
	var password string
	var tokens transport.TokenSource
	switch acct.Auth {
	case account.AuthXOAuth2:
		if tokenSourceFor == nil {
			return transport.Reply{}, errors.New("this build has no OAuth sign-in: cannot send with auth xoauth2")
		}
		ts, err := tokenSourceFor(app, ctx, acct, unattended)
		if err != nil {
			return transport.Reply{}, err
		}
		tokens = ts
	case account.AuthPlain, account.AuthLogin:
		p, err := app.accountPassword(acct.Name)
		if err != nil {
			return transport.Reply{}, err
		}
		password = p
	}
	cfg, err := transport.ConfigFor(acct, password, tokens)
	if err != nil {
		return transport.Reply{}, exitcode.Usagef("account %s: %w", acct.Name, err)
	}
	return testsend.Send(ctx, cfg, req)
}

// accountPassword reads the SMTP password stored for a plain/login account.
func (app *App) accountPassword(name string) (string, error) {
	dir, err := app.Home()
	if err != nil {
		return "", err
	}
	st, err := secrets.Open(dir)
	if err != nil {
		return "", err
	}
	p, err := account.Password(st, name)
	if errors.Is(err, account.ErrNoPassword) {
		return "", &exitcode.UsageError{Err: err}
	}
	return p, err
}
