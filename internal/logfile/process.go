package logfile

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/redact"
)

// Name is the log every process that runs without a person (cron, Task
// Scheduler, serve, the console) appends to, inside <home>/logs.
const Name = "bluemoon.log"

// Process is one process's log: its Logger's lines, and with TeeStderr
// everything it writes to stderr, go to stderr and to <home>/logs/
// bluemoon.log, each line in the file stamped with the time and masked
// for credentials. The file is opened on first use, so a process that
// logs nothing leaves none.
type Process struct {
	// Home returns the data home (called once, on first use).
	Home func() (string, error)
	// Stderr is where lines go besides the file.
	Stderr io.Writer

	fileMu  sync.Mutex
	file    *File
	stamped io.WriteCloser // stderr's copy into the file, when teed

	once      sync.Once
	logger    *slog.Logger
	fileStamp io.WriteCloser // the Logger's own way into the file, when not teed
}

// open opens the log file once (nil if it cannot, said on stderr).
func (p *Process) open() *File {
	p.fileMu.Lock()
	defer p.fileMu.Unlock()
	if p.file != nil {
		return p.file
	}
	dir, err := p.Home()
	if err != nil {
		return nil
	}
	f, err := Open(filepath.Join(dir, "logs", Name), DefaultMaxSize, DefaultBackups)
	if err != nil {
		fmt.Fprintf(p.Stderr, "bluemoon: cannot write the log file: %v\n", err)
		return nil
	}
	p.file = f
	return f
}

// TeeStderr returns the writer to use as stderr from now on: it also
// copies every line into the log file. A command started by a timer
// (--unattended) logs everything it says this way without doing anything
// itself.
func (p *Process) TeeStderr() io.Writer {
	if p.stamped == nil {
		f := p.open()
		if f == nil {
			return p.Stderr
		}
		p.stamped = Stamped(f, time.Now, redact.String)
	}
	return io.MultiWriter(p.Stderr, p.stamped)
}

// Logger returns the process's logger. Attribute values whose key names a
// credential, and anything shaped like a token, are masked, so a careless
// caller cannot leak a token into the log.
func (p *Process) Logger() *slog.Logger {
	p.once.Do(func() {
		// No time= attribute: the person reading stderr knows what time it
		// is, and the file's lines are stamped by Stamped, the same way as
		// the plain stderr lines copied there.
		opts := &slog.HandlerOptions{ReplaceAttr: func(g []string, at slog.Attr) slog.Attr {
			if len(g) == 0 && at.Key == slog.TimeKey || at.Key == FileOnlyKey || at.Key == StderrOnlyKey {
				return slog.Attr{}
			}
			return maskAttr(at)
		}}
		var h slog.Handler = &without{key: FileOnlyKey, h: slog.NewTextHandler(p.Stderr, opts)}
		// When stderr is already copied into the file, the lines go
		// there the same way (p.Stderr is the stderr before the copy).
		if p.stamped != nil {
			p.logger = slog.New(slog.NewMultiHandler(h, &without{key: StderrOnlyKey, h: slog.NewTextHandler(p.stamped, opts)}))
			return
		}
		if f := p.open(); f != nil {
			p.fileStamp = Stamped(f, time.Now, nil)
			h = slog.NewMultiHandler(h, &without{key: StderrOnlyKey, h: slog.NewTextHandler(p.fileStamp, opts)})
		}
		p.logger = slog.New(h)
	})
	return p.logger
}

// FileOnlyKey marks a line for the log file alone, not stderr: a record
// carrying the attribute FileOnly, or any line of a logger made
// With(FileOnly()). A command that shows the person an error itself logs
// that error's lines so, and stderr says it once.
const FileOnlyKey = "bluemoon_file_only"

// FileOnly is the attribute that keeps a line off stderr (FileOnlyKey).
// Handlers other than a Process's print it as any attribute.
func FileOnly() slog.Attr { return slog.Bool(FileOnlyKey, true) }

// StderrOnlyKey marks a line for stderr alone, not the log file: a line
// that says again what the file has already (serve showing the error its
// job's process logged there).
const StderrOnlyKey = "bluemoon_stderr_only"

// StderrOnly is the attribute that keeps a line out of the log file
// (StderrOnlyKey). Handlers other than a Process's print it as any
// attribute.
func StderrOnly() slog.Attr { return slog.Bool(StderrOnlyKey, true) }

// without passes on to h the lines not marked key: a record carrying the
// attribute, or any line of a logger made With it.
type without struct {
	key  string
	h    slog.Handler
	skip bool // made With the mark
}

func (n *without) Enabled(ctx context.Context, l slog.Level) bool {
	return !n.skip && n.h.Enabled(ctx, l)
}

func (n *without) Handle(ctx context.Context, r slog.Record) error {
	marked := false
	r.Attrs(func(at slog.Attr) bool {
		marked = at.Key == n.key
		return !marked
	})
	if n.skip || marked {
		return nil
	}
	return n.h.Handle(ctx, r)
}

func (n *without) WithAttrs(as []slog.Attr) slog.Handler {
	skip := n.skip || slices.ContainsFunc(as, func(at slog.Attr) bool { return at.Key == n.key })
	return &without{key: n.key, h: n.h.WithAttrs(as), skip: skip}
}

func (n *without) WithGroup(name string) slog.Handler {
	return &without{key: n.key, h: n.h.WithGroup(name), skip: n.skip}
}

// Close flushes and closes the log file.
func (p *Process) Close() {
	for _, c := range []io.Closer{p.fileStamp, p.stamped} {
		if c != nil {
			c.Close()
		}
	}
	if p.file != nil {
		p.file.Close()
	}
}

func maskAttr(at slog.Attr) slog.Attr {
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

// Lazy is a handler that asks get for the real logger only when a line is
// written at Info or above: a library can be handed a logger without the
// log file being opened for nothing.
func Lazy(get func() *slog.Logger) slog.Handler { return &lazy{get: get} }

type lazy struct {
	get func() *slog.Logger
	ops []func(slog.Handler) slog.Handler // WithAttrs / WithGroup, in order
}

func (h *lazy) handler() slog.Handler {
	r := h.get().Handler()
	for _, op := range h.ops {
		r = op(r)
	}
	return r
}

func (h *lazy) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h *lazy) Handle(ctx context.Context, r slog.Record) error { return h.handler().Handle(ctx, r) }

func (h *lazy) with(op func(slog.Handler) slog.Handler) slog.Handler {
	return &lazy{get: h.get, ops: append(slices.Clip(h.ops), op)}
}

func (h *lazy) WithAttrs(as []slog.Attr) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithAttrs(as) })
}

func (h *lazy) WithGroup(name string) slog.Handler {
	return h.with(func(x slog.Handler) slog.Handler { return x.WithGroup(name) })
}
