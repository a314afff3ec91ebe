package cli

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/logfile"
	"github.com/bluemoon-mail/bluemoon/internal/redact"
)

// LogFileName is the log every command that runs without a person (cron,
// Task Scheduler, serve) appends to, inside <home>/logs.
const LogFileName = "bluemoon.log"

type logState struct {
	once    sync.Once
	logger  *slog.Logger
	fileMu  sync.Mutex
	file    *logfile.File
	stamped io.WriteCloser // stderr's copy into the file, when teed
	// fileStamp is the Logger's own way into the file, when not teed.
	fileStamp io.WriteCloser
}

// logFile opens <home>/logs/bluemoon.log once (nil if it cannot).
func (a *App) logFile() *logfile.File {
	a.log.fileMu.Lock()
	defer a.log.fileMu.Unlock()
	if a.log.file != nil {
		return a.log.file
	}
	dir, err := a.Home()
	if err != nil {
		return nil
	}
	f, err := logfile.Open(filepath.Join(dir, "logs", LogFileName), logfile.DefaultMaxSize, logfile.DefaultBackups)
	if err != nil {
		a.Warnf("bluemoon: cannot write the log file: %v\n", err)
		return nil
	}
	a.log.file = f
	return f
}

// teeStderrToLog makes everything the command writes to stderr from now on
// — progress lines, error sentences, Logger lines — land in the log file
// too, each line stamped with the time and masked for credentials. Root
// calls it for any command run with --unattended, so every sending command
// logs to the file without doing anything itself.
func (a *App) teeStderrToLog() {
	if a.log.stamped != nil {
		return
	}
	f := a.logFile()
	if f == nil {
		return
	}
	a.log.stamped = logfile.Stamped(f, time.Now, redact.String)
	a.Stderr = io.MultiWriter(a.Stderr, a.log.stamped)
}

// Logger returns the process's logger: lines go to stderr and to
// <home>/logs/bluemoon.log (rotated by size). Attribute values whose key
// names a credential, and anything shaped like a token, are masked, so a
// careless caller cannot leak a token into the log. Commands meant to run
// unattended (run, serve, keepalive, schedule run) log through it.
func (a *App) Logger() *slog.Logger {
	a.log.once.Do(func() {
		// No time= attribute: the person reading stderr knows what time it
		// is, and the file's lines are stamped by logfile.Stamped, the same
		// way as the plain stderr lines copied there.
		opts := &slog.HandlerOptions{ReplaceAttr: func(g []string, at slog.Attr) slog.Attr {
			if len(g) == 0 && at.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return maskAttr(g, at)
		}}
		var h slog.Handler = slog.NewTextHandler(a.Stderr, opts)
		// When stderr is already copied into the file, one handler does both.
		if a.log.stamped == nil {
			if f := a.logFile(); f != nil {
				a.log.fileStamp = logfile.Stamped(f, time.Now, nil)
				h = slog.NewMultiHandler(h, slog.NewTextHandler(a.log.fileStamp, opts))
			}
		}
		a.log.logger = slog.New(h)
	})
	return a.log.logger
}

func (a *App) closeLog() {
	if a.log.fileStamp != nil {
		a.log.fileStamp.Close()
	}
	if a.log.stamped != nil {
		a.log.stamped.Close()
	}
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

// lazyHandler is the log handler the service logs through: it opens
// App.Logger (and so the log file) only when a line is written, so that
// commands that log nothing create no log file.
type lazyHandler struct {
	app *App
	ops []func(slog.Handler) slog.Handler // WithAttrs / WithGroup, applied in order
}

func (h *lazyHandler) handler() slog.Handler {
	r := h.app.Logger().Handler()
	for _, op := range h.ops {
		r = op(r)
	}
	return r
}

func (h *lazyHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *lazyHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.handler().Handle(ctx, r)
}

func (h *lazyHandler) with(op func(slog.Handler) slog.Handler) slog.Handler {
	return &lazyHandler{app: h.app, ops: append(slices.Clip(h.ops), op)}
}

func (h *lazyHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithAttrs(as) })
}

func (h *lazyHandler) WithGroup(name string) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithGroup(name) })
}
