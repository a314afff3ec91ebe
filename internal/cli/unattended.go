package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
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

// addNotifyFlags adds the alert destinations shared by run, keepalive,
// schedule and serve.
func addNotifyFlags(cmd *cobra.Command, c *alert.Config) {
	cmd.Flags().StringVar(&c.Command, "notify-cmd", "", "command run on an alert (sign-in needed, failed preflight, paused or failed delivery); it reads the event as JSON on stdin")
	cmd.Flags().StringVar(&c.Email, "notify-email", "", "e-mail address alerts are sent to (with --notify-account)")
	cmd.Flags().StringVar(&c.EmailAccount, "notify-account", "", "bluemoon account that sends alert e-mails (use another account than the one that may fail)")
}

// checkAlert validates alert destinations given on the command line, and
// that the account meant to send alert e-mails exists: a misspelt one
// would only show when an alert is needed, and then it would be lost.
func (a *App) checkAlert(ctx context.Context, c alert.Config) error {
	if err := c.Validate(); err != nil {
		return &exitcode.UsageError{Err: err}
	}
	if c.EmailAccount == "" {
		return nil
	}
	return a.requireAccount(ctx, "--notify-account", c.EmailAccount)
}

// requireAccount checks that the account named by flag exists (exit code 2
// when it does not).
func (a *App) requireAccount(ctx context.Context, flag, name string) error {
	db, err := a.DB(ctx)
	if err != nil {
		return err
	}
	if _, err := (&account.Store{DB: db.DB}).Get(ctx, name); err != nil {
		if errors.Is(err, account.ErrNotFound) {
			return &exitcode.UsageError{Err: fmt.Errorf("%s: %w", flag, err)}
		}
		return err
	}
	return nil
}
