package cli

import (
	"context"
	"runtime"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

func scheduleInstallCmd(app *App) *cobra.Command {
	var (
		write, all bool
		in         schedule.Install
		osArg      string
	)
	cmd := &cobra.Command{
		Use:   "install [--write] [--all | --os linux|darwin|windows] [--keepalive ACCOUNT [--send-test] [--at 07:00]]",
		Short: "Print (or write) what keeps serve running on this system: cron or systemd, launchd, Task Scheduler",
		Long: `Print the set-up that runs 'bluemoon serve' without a person on this system:
on Linux a crontab line (a minutely 'serve --once') or a systemd user service,
on macOS a launchd agent, on Windows a Task Scheduler task (started at log-on,
no time limit, restarted on failure). --all prints all three; --os another's.
With --keepalive ACCOUNT, the set-ups run a daily keep-alive of that account
instead, for machines that need nothing else.

--write writes the files for this system: the systemd user units on Linux,
the launch agent in ~/Library/LaunchAgents on macOS, the task definition
(UTF-16 XML, in the data home) on Windows; it prints the command that
enables them. Crontabs are yours: add the line with 'crontab -e'.`,
		Args: noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			if all {
				if osArg != "" && osArg != schedule.AllOS {
					return exitcode.Usagef("--all and --os %s are alternatives: give one", osArg)
				}
				osArg = schedule.AllOS
			}
			p, err := svc.PlanInstall(in)
			if err != nil {
				return err
			}
			if write {
				if osArg != "" {
					return exitcode.Usagef("--write writes the set-up of this system (%s); --all and --os only print", runtime.GOOS)
				}
				w, err := svc.InstallWrite(p)
				if err != nil {
					return err
				}
				if len(w.Files) == 0 {
					app.Printf("nothing to write for a keep-alive task; run:\n%s", w.Next)
					return nil
				}
				for _, f := range w.Files {
					app.Printf("wrote %s\n", f)
				}
				app.Printf("now run:\n%s", w.Next)
				return nil
			}
			text, err := p.Text(osArg)
			if err != nil {
				return err
			}
			app.Printf("%s", text)
			return nil
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&write, "write", false, "write the files for this system instead of printing")
	f.BoolVar(&all, "all", false, "print the set-ups of Linux, macOS and Windows")
	f.StringVar(&osArg, "os", "", "print the set-up of this system instead: linux, darwin (macOS), windows or all (default: this one, "+runtime.GOOS+")")
	f.StringVar(&in.KeepAlive, "keepalive", "", "set up a daily keep-alive of this account instead of serve")
	f.BoolVar(&in.SendTest, "send-test", false, "with --keepalive: also send a test message")
	f.StringVar(&in.At, "at", "07:00", "with --keepalive: time of day")
	f.StringVar(&in.Bin, "bin", "", "path of the bluemoon program (default: this one)")
	return cmd
}
