package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

func init() { register(keepaliveCmd) }

func keepaliveCmd(app *App) *cobra.Command {
	var (
		sendTest, unattended bool
		notify               alert.Config
	)
	cmd := &cobra.Command{
		Use:   "keepalive ACCOUNT",
		Short: "Refresh an account's sign-in now (and optionally send it a test message)",
		Long: `Refresh ACCOUNT's token, saving the new refresh token the provider hands out,
and with --send-test send a test message to the account's own address — the
admin guide's advice for accounts used rarely, so that their sign-in never
lapses. Warns when the refresh token nears a lifetime the provider enforces
(Microsoft: 90 days unused; Google: 7 days for apps left in "Testing", six
months unused).

To run it daily: 'bluemoon schedule keepalive ACCOUNT' (with bluemoon serve),
or a cron line: 0 7 * * * bluemoon keepalive ACCOUNT --unattended

Exit codes: 0 done; 4 a sign-in is needed; 2 no such account; 1 other errors.`,
		Args: exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			if err := svc.CheckAlert(ctx, notify); err != nil {
				return err
			}
			if !sendTest {
				if info, err := svc.Account(ctx, args[0]); err == nil && info.Auth != account.AuthXOAuth2 {
					app.Printf("account %s signs in with %q: there is no token to keep alive (--send-test checks the account)\n", info.Name, info.Auth)
					return nil
				}
			}
			err := svc.RunJob(ctx, core.Job{Kind: schedule.KindKeepAlive, Target: args[0], SendTest: sendTest, Alert: notify, ErrorShown: true},
				core.SendEvents{SignIn: app.signInHandler(unattended)})
			if err == nil {
				app.Printf("keep-alive done for %s\n", args[0])
			}
			return err
		}),
	}
	cmd.Flags().BoolVar(&sendTest, "send-test", false, "also send a test message to the account itself")
	addUnattendedFlag(cmd, &unattended)
	addNotifyFlags(cmd, &notify)
	return cmd
}
