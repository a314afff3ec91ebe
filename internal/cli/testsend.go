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
	"github.com/bluemoon-mail/bluemoon/internal/testsend"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

func init() { register(testSendCmd) }

// tokenSourceFor gives an XOAUTH2 account its token source, signing in
// first when needed (confirming unless the account turned that off) and,
// when unattended, failing with a sign-in-needed error (exit 4) instead of
// waiting. It is a variable so that tests can replace it.
var tokenSourceFor = func(app *App, ctx context.Context, acct *account.Account, unattended bool) (transport.TokenSource, error) {
	src, err := app.tokenSource(ctx, acct, unattended)
	if err != nil {
		return nil, err // not a nil *oauth.Source in a non-nil interface
	}
	return src, nil
}

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
	cfg, err := app.transportConfig(ctx, acct, unattended)
	if err != nil {
		return transport.Reply{}, err
	}
	return testsend.Send(ctx, cfg, req)
}

// accountPassword reads the SMTP password stored for a plain/login account.
func (app *App) accountPassword(name string) (string, error) {
	st, err := app.secretStore()
	if err != nil {
		return "", err
	}
	p, err := account.Password(st, name)
	if errors.Is(err, account.ErrNoPassword) {
		return "", &exitcode.UsageError{Err: err}
	}
	return p, err
}
