package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/core"
)

func init() { register(runCmd) }

func runCmd(app *App) *cobra.Command {
	var (
		unattended, dryRun bool
		notify             alert.Config
	)
	cmd := &cobra.Command{
		Use:   "run NAME",
		Short: "Run a saved delivery (one line for cron or Task Scheduler)",
		Long: `Run the delivery saved under NAME with 'bluemoon deliveries save', exactly as
'bluemoon send' with the saved options would.

Exit codes: 0 every recipient sent; 3 finished with failures; 4 a sign-in is
needed (nothing waited for a person); 5 paused; 2 a configuration error (no
such saved delivery, a missing file); 1 any other error.

On anything but 0 an alert goes to the log and, if given (here or when the
delivery was saved), to --notify-cmd and --notify-email.

Example crontab line (every weekday at 09:00):
  0 9 * * 1-5 bluemoon run newsletter --unattended`,
		Args: exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			return quiet(svc.RunSaved(ctx, args[0], dryRun, notify, app.sendEvents(unattended)))
		}),
	}
	addUnattendedFlag(cmd, &unattended)
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check everything (list, template, sign-in, SMTP login) and send nothing")
	addNotifyFlags(cmd, &notify)
	return cmd
}
