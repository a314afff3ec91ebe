package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

func scheduleInstallCmd(app *App) *cobra.Command {
	var (
		write bool
		in    schedule.Install
		osArg string
	)
	cmd := &cobra.Command{
		Use:   "install [--write] [--keepalive ACCOUNT [--send-test] [--at 07:00]]",
		Short: "Print (or write) the cron line, systemd units or Task Scheduler task that keep serve running",
		Long: `Print the set-ups that run 'bluemoon serve' without a person: a crontab line
(a minutely 'serve --once'), a systemd user service, and a Windows Task
Scheduler task (started at log-on, no time limit, restarted on failure).
With --keepalive ACCOUNT, the set-ups run a daily keep-alive of that account
instead, for machines that need nothing else.

--write writes the files for this system: the systemd user units on Linux,
the task definition (UTF-16 XML, in the data home) on Windows; it prints the
command that enables them. Crontabs are yours: add the line with 'crontab -e'.`,
		Args: cobra.NoArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			p, err := svc.PlanInstall(in)
			if err != nil {
				return err
			}
			target := osArg
			if write {
				target = runtime.GOOS
			}
			switch target {
			case "all", "linux", "darwin", "windows":
			default:
				return exitcode.Usagef("--os %q: use linux, darwin, windows or all", osArg)
			}
			if write {
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
			var b strings.Builder
			if target != "windows" {
				fmt.Fprintf(&b, "# cron (Linux, macOS): add this line with 'crontab -e'\n%s\n", p.Crontab)
			}
			if target == "all" || target == "linux" {
				for _, f := range p.SystemdUnits {
					fmt.Fprintf(&b, "# systemd user unit: %s\n%s\n", filepath.Join(p.SystemdDir, f.Name), f.Body)
				}
				fmt.Fprintf(&b, "# then run:\n%s\n", p.SystemdEnable)
			}
			if target == "all" || target == "windows" {
				if p.KeepAlive == "" {
					fmt.Fprintf(&b, "# Windows Task Scheduler: save as %s (or use --write), then run:\n%s\n%s", p.TaskXMLPath, p.Schtasks, p.TaskXML)
				} else {
					fmt.Fprintf(&b, "# Windows Task Scheduler (cmd.exe):\n%s", p.Schtasks)
				}
			}
			app.Printf("%s", b.String())
			return nil
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&write, "write", false, "write the files for this system instead of printing")
	f.StringVar(&in.KeepAlive, "keepalive", "", "set up a daily keep-alive of this account instead of serve")
	f.BoolVar(&in.SendTest, "send-test", false, "with --keepalive: also send a test message")
	f.StringVar(&in.At, "at", "07:00", "with --keepalive: time of day")
	f.StringVar(&in.Bin, "bin", "", "path of the bluemoon program (default: this one)")
	f.StringVar(&osArg, "os", "all", "which set-ups to print: linux, darwin, windows or all")
	return cmd
}
