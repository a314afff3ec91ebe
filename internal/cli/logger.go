package cli

import (
	"log/slog"

	"github.com/bluemoon-mail/bluemoon/internal/logfile"
)

// LogFileName is the log every command that runs without a person (cron,
// Task Scheduler, serve) appends to, inside <home>/logs.
const LogFileName = logfile.Name

func (a *App) logs() *logfile.Process {
	if a.log == nil {
		a.log = &logfile.Process{Home: a.Home, Stderr: a.Stderr}
	}
	return a.log
}

// teeStderrToLog makes everything the command writes to stderr from now on
// — progress lines, error sentences, Logger lines — land in the log file
// too. Root calls it for any command run with --unattended, so every
// sending command logs to the file without doing anything itself.
func (a *App) teeStderrToLog() { a.Stderr = a.logs().TeeStderr() }

// Logger returns the process's logger: lines go to stderr and to
// <home>/logs/bluemoon.log (rotated by size), credentials masked. Commands
// meant to run unattended (run, serve, keepalive, schedule run) log
// through it, by way of the service.
func (a *App) Logger() *slog.Logger { return a.logs().Logger() }

func (a *App) closeLog() {
	if a.log != nil {
		a.log.Close()
	}
}
