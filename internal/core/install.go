package core

import (
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"

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
	LaunchDir     string          // the launch agent folder (macOS)
	LaunchdPlist  schedule.File   // the launch agent
	LaunchdLoad   string          // the command that loads it
	TaskXMLPath   string          // where the Task Scheduler definition goes (in the home)
	TaskXML       string          // the definition (serve only)
	Schtasks      string          // the Windows command
}

// Text is the set-up of one system (schedule.Linux, MacOS, Windows; ""
// is the one this program runs on) or of all three (schedule.AllOS), as
// `schedule install` prints it.
func (p *InstallPlan) Text(goos string) (string, error) {
	if goos == "" {
		goos = runtime.GOOS
	}
	t, err := p.Install.Instructions(goos, schedule.Places{SystemdDir: p.SystemdDir, LaunchDir: p.LaunchDir, TaskXMLPath: p.TaskXMLPath})
	if err != nil {
		return "", flagError(err)
	}
	return t, nil
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
		return nil, flagError(err)
	}
	p := &InstallPlan{Install: in, Crontab: in.Crontab(), SystemdDir: userDir("linux", ".config/systemd/user"), SystemdUnits: in.SystemdUnits(),
		SystemdEnable: in.SystemdEnable(), LaunchDir: userDir("darwin", "Library/LaunchAgents"), LaunchdPlist: in.LaunchdPlist(),
		TaskXMLPath: filepath.Join(s.home, "bluemoon-task.xml")}
	p.LaunchdLoad = in.LaunchdLoad(path.Join(p.LaunchDir, p.LaunchdPlist.Name))
	p.Schtasks = in.Schtasks(p.TaskXMLPath)
	if in.KeepAlive == "" {
		p.TaskXML = in.TaskXML()
	}
	return p, nil
}

// userDir is the folder rel of the user's home where goos keeps a
// set-up's files: the real one on that system, "~/rel" when printed on
// another.
func userDir(goos, rel string) string {
	if runtime.GOOS == goos {
		if x := os.Getenv("XDG_CONFIG_HOME"); x != "" && goos == "linux" {
			return path.Join(filepath.ToSlash(x), strings.TrimPrefix(rel, ".config/"))
		}
		if h, err := os.UserHomeDir(); err == nil {
			return path.Join(filepath.ToSlash(h), rel)
		}
	}
	return "~/" + rel
}

// InstallWritten is what InstallWrite did.
type InstallWritten struct {
	Files []string // written
	Next  string   // the command that enables them
}

// InstallWrite writes p's files for this system: the systemd user units on
// Linux, the launch agent on macOS, the task definition (UTF-16 XML, in
// the home) on Windows. Other systems use cron, whose table is the
// user's: the error says the line.
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
	case "darwin":
		if err := os.MkdirAll(p.LaunchDir, 0o755); err != nil {
			return nil, err
		}
		path := filepath.Join(p.LaunchDir, p.LaunchdPlist.Name)
		if err := home.WriteFileAtomic(path, []byte(p.LaunchdPlist.Body), 0o644); err != nil {
			return nil, err
		}
		return &InstallWritten{Files: []string{path}, Next: p.LaunchdLoad}, nil
	default:
		return nil, exitcode.Usagef("--write knows systemd (Linux), launchd (macOS) and Task Scheduler (Windows); here add this line with 'crontab -e':\n%s", p.Crontab)
	}
}
