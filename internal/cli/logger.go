package cli

import (
	"io"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/bluemoon-mail/bluemoon/internal/logfile"
	"github.com/bluemoon-mail/bluemoon/internal/redact"
)

// LogFileName is the log every command that runs without a person (cron,
// Task Scheduler, serve) appends to, inside <home>/logs.
const LogFileName = "bluemoon.log"

type logState struct {
	once   sync.Once
	logger *slog.Logger
	file   io.Closer
}

// Logger returns the process's logger: lines go to stderr and to
// <home>/logs/bluemoon.log (rotated by size). Attribute values whose key
// names a credential, and anything shaped like a token, are masked, so a
// careless caller cannot leak a token into the log. Commands meant to run
// unattended (run, serve, keepalive, send --unattended) should log through it.
func (a *App) Logger() *slog.Logger {
	a.log.once.Do(func() {
		opts := &slog.HandlerOptions{ReplaceAttr: maskAttr}
		stderr := slog.NewTextHandler(a.Stderr, &slog.HandlerOptions{ReplaceAttr: func(g []string, at slog.Attr) slog.Attr {
			// The person reading stderr knows what time it is; the file keeps it.
			if len(g) == 0 && at.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return maskAttr(g, at)
		}})
		var h slog.Handler = stderr
		if dir, err := a.Home(); err == nil {
			if f, err := logfile.Open(filepath.Join(dir, "logs", LogFileName), logfile.DefaultMaxSize, logfile.DefaultBackups); err == nil {
				a.log.file = f
				h = slog.NewMultiHandler(stderr, slog.NewTextHandler(f, opts))
			} else {
				a.Warnf("bluemoon: cannot write the log file: %v\n", err)
			}
		}
		a.log.logger = slog.New(h)
	})
	return a.log.logger
}

func (a *App) closeLog() {
	if a.log.file != nil {
		a.log.file.Close()
	}
}

func maskAttr(_ []string, at slog.Attr) slog.Attr {
	if redact.SecretKey(at.Key) {
		return slog.String(at.Key, redact.Mask)
	}
	switch at.Value.Kind() {
	case slog.KindString:
		return slog.String(at.Key, redact.String(at.Value.String()))
	case slog.KindAny:
		if err, ok := at.Value.Any().(error); ok {
			return slog.String(at.Key, redact.String(err.Error()))
		}
	}
	return at
}
