package core

import (
	"os"
	"path/filepath"
	"runtime"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/home"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// InstallPlan is what keeps the scheduler (or one account's daily
// keep-alive) running without a person, for every system: the texts for a
// face to show, the files InstallWrite writes.
type InstallPlan struct {
	schedule.Install
	Crontab       string          // one crontab line (Linux, macOS)
	SystemdDir    string          // the systemd user unit folder
	SystemdUnits  []schedule.File // the user units
	SystemdEnable string          // the command that starts them
	TaskXMLPath   string          // where the Task Scheduler definition goes (in the home)
	TaskXML       string          // the definition (serve only)
	Schtasks      string          // the Windows command
}

// PlanInstall completes in (the binary defaults to this program, the home
// to the Service's) and returns the set-ups.
func (s *Service) PlanInstall(in schedule.Install) (*InstallPlan, error) {
	in.Home = s.home
	if in.Bin == "" {
		bin, err := os.Executable()
		if err != nil {
			return nil, err
		}
		if p, err := filepath.EvalSymlinks(bin); err == nil {
			bin = p
		}
		in.Bin = bin
	}
	if _, _, err := in.ClockTime(); err != nil {
		return nil, fieldErr("at", CodeInvalid, "%w", err)
	}
	p := &InstallPlan{Install: in, Crontab: in.Crontab(), SystemdDir: systemdUserDir(), SystemdUnits: in.SystemdUnits(),
		SystemdEnable: in.SystemdEnable(), TaskXMLPath: filepath.Join(s.home, "bluemoon-task.xml")}
	p.Schtasks = in.Schtasks(p.TaskXMLPath)
	if in.KeepAlive == "" {
		p.TaskXML = in.TaskXML()
	}
	return p, nil
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

// InstallWritten is what InstallWrite did.
type InstallWritten struct {
	Files []string // written
	Next  string   // the command that enables them
}

// InstallWrite writes p's files for this system: the systemd user units on
// Linux, the task definition (UTF-16 XML, in the home) on Windows. Other
// systems use cron, whose table is the user's: the error says the line.
func (s *Service) InstallWrite(p *InstallPlan) (*InstallWritten, error) {
	switch runtime.GOOS {
	case "linux":
		if err := os.MkdirAll(p.SystemdDir, 0o755); err != nil {
			return nil, err
		}
		w := &InstallWritten{Next: p.SystemdEnable}
		for _, f := range p.SystemdUnits {
			path := filepath.Join(p.SystemdDir, f.Name)
			if err := home.WriteFileAtomic(path, []byte(f.Body), 0o644); err != nil {
				return w, err
			}
			w.Files = append(w.Files, path)
		}
		return w, nil
	case "windows":
		if p.KeepAlive != "" {
			return &InstallWritten{Next: p.Schtasks}, nil
		}
		if err := home.WriteFileAtomic(p.TaskXMLPath, schedule.UTF16(p.TaskXML), 0o600); err != nil {
			return nil, err
		}
		return &InstallWritten{Files: []string{p.TaskXMLPath}, Next: p.Schtasks}, nil
	default:
		return nil, exitcode.Usagef("--write knows systemd (Linux) and Task Scheduler (Windows); here add this line with 'crontab -e':\n%s", p.Crontab)
	}
}
