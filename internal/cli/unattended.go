package cli

import (
	"context"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/core"
)

// The --unattended convention, for every command that may run from a timer:
// never prompt, never open a browser, never wait for a person. A sign-in
// that would be needed ends the command with exit code 4 (exitcode.SignIn)
// and a sentence saying which account and why; the command logs through
// App.Logger (stderr and <home>/logs/bluemoon.log). A command whose stdin is
// not a terminal behaves the same even without the flag.

// addUnattendedFlag adds --unattended to cmd.
func addUnattendedFlag(cmd *cobra.Command, v *bool) {
	cmd.Flags().BoolVar(v, "unattended", false, "never prompt, open a browser or wait for a person: exit 4 when a sign-in is needed (for cron / Task Scheduler)")
}

// unattended reports whether a command must not wait for a person.
func (a *App) unattended(flag bool) bool { return flag || !a.IsTerminal() }

// signInHandler is the CLI's answer when an account needs a new sign-in:
// with a person at the terminal, say why, ask "Sign in again now?"
// (unless the account's confirm_reauth is off) and sign in through the
// browser. Unattended there is none: the command ends with exit code 4.
func (a *App) signInHandler(unattended bool) core.SignInHandler {
	if a.unattended(unattended) {
		return nil
	}
	return func(ctx context.Context, acct *account.Account, err error) error {
		a.Warnf("%v\n", err)
		if acct.ConfirmReauth {
			a.Warnf("Sign in again now? [Y/n] ")
			ans, rerr := readAnswer(a.Stdin)
			if rerr != nil || strings.HasPrefix(strings.ToLower(ans), "n") {
				return err
			}
		}
		_, lerr := a.login(ctx, acct.Name, core.SignInBrowser, 0)
		return lerr
	}
}

// readAnswer reads one line byte by byte, so nothing after it is consumed
// from a shared stdin.
func readAnswer(r io.Reader) (string, error) {
	var sb strings.Builder
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			sb.WriteByte(b[0])
		}
		if err != nil {
			if sb.Len() > 0 {
				break
			}
			return "", err
		}
	}
	return strings.TrimSpace(sb.String()), nil
}

// addNotifyFlags adds the alert destinations shared by run, keepalive,
// schedule and serve.
func addNotifyFlags(cmd *cobra.Command, c *alert.Config) {
	cmd.Flags().StringVar(&c.Command, "notify-cmd", "", "command run on an alert (sign-in needed, failed preflight, paused or failed delivery); it reads the event as JSON on stdin")
	cmd.Flags().StringVar(&c.Email, "notify-email", "", "e-mail address alerts are sent to (with --notify-account)")
	cmd.Flags().StringVar(&c.EmailAccount, "notify-account", "", "bluemoon account that sends alert e-mails (use another account than the one that may fail)")
}
