package schedule

import (
	"fmt"
	"path"
	"strings"
)

// Systems whose set-ups Instructions prints.
const (
	Linux   = "linux"
	MacOS   = "darwin"
	Windows = "windows"
	AllOS   = "all"
)

// Places are where a system keeps the files of its set-up. Linux and
// macOS paths are slash-separated whatever system prints them.
type Places struct {
	SystemdDir  string // the systemd user unit folder (Linux)
	LaunchDir   string // ~/Library/LaunchAgents (macOS)
	TaskXMLPath string // the Task Scheduler definition (Windows, in the data home)
}

// Instructions is what `schedule install` prints for goos (linux, darwin,
// windows, or all three): the set-up that system runs, with the file
// names and the commands that enable it. Linux gets cron and systemd
// (either will do), macOS launchd, Windows Task Scheduler.
func (in Install) Instructions(goos string, p Places) (string, error) {
	var b strings.Builder
	switch goos {
	case Linux:
		in.linux(&b, p, "")
	case MacOS:
		in.macOS(&b, p, "")
	case Windows:
		in.windows(&b, p, "")
	case AllOS:
		in.linux(&b, p, "Linux: ")
		b.WriteString("\n")
		in.macOS(&b, p, "macOS: ")
		b.WriteString("\n")
		in.windows(&b, p, "Windows: ")
	default:
		return "", inputErr("os", "--os %q: use linux, darwin (macOS), windows or all", goos)
	}
	return b.String(), nil
}

func (in Install) linux(b *strings.Builder, p Places, prefix string) {
	fmt.Fprintf(b, "# %seither cron: add this line with 'crontab -e'\n%s", prefix, in.Crontab())
	fmt.Fprintf(b, "# %sor systemd (what --write writes):\n", prefix)
	for _, f := range in.SystemdUnits() {
		fmt.Fprintf(b, "# file %s\n%s", path.Join(p.SystemdDir, f.Name), f.Body)
	}
	fmt.Fprintf(b, "# then run:\n%s", in.SystemdEnable())
}

func (in Install) macOS(b *strings.Builder, p Places, prefix string) {
	f := in.LaunchdPlist()
	path := path.Join(p.LaunchDir, f.Name)
	fmt.Fprintf(b, "# %slaunchd: save this as %s (or use --write), then run:\n%s%s", prefix, path, in.LaunchdLoad(path), f.Body)
}

func (in Install) windows(b *strings.Builder, p Places, prefix string) {
	if in.KeepAlive != "" {
		fmt.Fprintf(b, "# %sTask Scheduler: run in cmd.exe:\n%s", prefix, in.Schtasks(""))
		return
	}
	fmt.Fprintf(b, "# %sTask Scheduler: save this as %s (or use --write), then run in cmd.exe:\n%s%s",
		prefix, p.TaskXMLPath, in.Schtasks(p.TaskXMLPath), in.TaskXML())
}
