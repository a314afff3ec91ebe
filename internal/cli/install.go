package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/home"
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := app.Home()
			if err != nil {
				return err
			}
			in.Home = dir
			if in.Bin == "" {
				if in.Bin, err = os.Executable(); err != nil {
					return err
				}
				if p, err := filepath.EvalSymlinks(in.Bin); err == nil {
					in.Bin = p
				}
			}
			if _, _, err := in.ClockTime(); err != nil {
				return &exitcode.UsageError{Err: err}
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
			xmlPath := filepath.Join(dir, "bluemoon-task.xml")
			if write {
				return app.writeInstall(in, xmlPath)
			}
			var b strings.Builder
			if target != "windows" {
				fmt.Fprintf(&b, "# cron (Linux, macOS): add this line with 'crontab -e'\n%s\n", in.Crontab())
			}
			if target == "all" || target == "linux" {
				for _, f := range in.SystemdUnits() {
					fmt.Fprintf(&b, "# systemd user unit: %s\n%s\n", filepath.Join(systemdUserDir(), f.Name), f.Body)
				}
				fmt.Fprintf(&b, "# then run:\n%s\n", in.SystemdEnable())
			}
			if target == "all" || target == "windows" {
				if in.KeepAlive == "" {
					fmt.Fprintf(&b, "# Windows Task Scheduler: save as %s (or use --write), then run:\n%s\n%s", xmlPath, in.Schtasks(xmlPath), in.TaskXML())
				} else {
					fmt.Fprintf(&b, "# Windows Task Scheduler (cmd.exe):\n%s", in.Schtasks(xmlPath))
				}
			}
			app.Printf("%s", b.String())
			return nil
		},
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

func systemdUserDir() string {
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "systemd", "user")
	}
	h, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join("~", ".config", "systemd", "user")
	}
	return filepath.Join(h, ".config", "systemd", "user")
}

func (a *App) writeInstall(in schedule.Install, xmlPath string) error {
	switch runtime.GOOS {
	case "linux":
		dir := systemdUserDir()
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, f := range in.SystemdUnits() {
			p := filepath.Join(dir, f.Name)
			if err := home.WriteFileAtomic(p, []byte(f.Body), 0o644); err != nil {
				return err
			}
			a.Printf("wrote %s\n", p)
		}
		a.Printf("now run:\n%s", in.SystemdEnable())
	case "windows":
		if in.KeepAlive != "" {
			a.Printf("nothing to write for a keep-alive task; run:\n%s", in.Schtasks(xmlPath))
			return nil
		}
		if err := home.WriteFileAtomic(xmlPath, schedule.UTF16(in.TaskXML()), 0o600); err != nil {
			return err
		}
		a.Printf("wrote %s\nnow run:\n%s", xmlPath, in.Schtasks(xmlPath))
	default:
		return exitcode.Usagef("--write knows systemd (Linux) and Task Scheduler (Windows); here add this line with 'crontab -e':\n%s", in.Crontab())
	}
	return nil
}
