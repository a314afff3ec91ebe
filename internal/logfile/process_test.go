package logfile

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A logger handed out lazily opens the log file only when a line is
// logged, and the line keeps the attributes added before.
func TestLazyOpensTheFileOnFirstLine(t *testing.T) {
	home := t.TempDir()
	var stderr bytes.Buffer
	p := &Process{Home: func() (string, error) { return home, nil }, Stderr: &stderr}
	defer p.Close()
	log := slog.New(Lazy(p.Logger)).With("account", "sales")
	log.Debug("not written")
	if _, err := os.Stat(filepath.Join(home, "logs")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the log folder exists before anything was logged: %v", err)
	}
	log.Info("delivery done", "refresh_token", "rt-secret")
	p.Close()
	raw, err := os.ReadFile(filepath.Join(home, "logs", Name))
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"file": string(raw), "stderr": stderr.String()} {
		if !strings.Contains(text, "delivery done") || !strings.Contains(text, "account=sales") || strings.Contains(text, "rt-secret") {
			t.Errorf("%s:\n%s", what, text)
		}
	}
}

// A line marked FileOnly (by its own attribute, or by a logger made With
// it, through Lazy too) goes to the file and not to stderr, teed or not;
// the mark itself is printed nowhere.
func TestFileOnlyLinesStayOffStderr(t *testing.T) {
	for _, teed := range []bool{false, true} {
		file, out := logged(t, teed, func(log *slog.Logger) {
			log = log.With("delivery", "news")
			log.Info("starting")
			log.Error("delivery did not succeed", FileOnly(), "exit", 2)
			log.With(FileOnly()).Warn("alert", "kind", "delivery_failed")
		})
		if !strings.Contains(out, "msg=starting delivery=news") || strings.Contains(out, "did not succeed") || strings.Contains(out, "alert") {
			t.Errorf("teed %v: stderr:\n%s", teed, out)
		}
		for _, want := range []string{"msg=starting", `msg="delivery did not succeed" delivery=news exit=2`, "msg=alert delivery=news kind=delivery_failed"} {
			if strings.Count(file, want) != 1 {
				t.Errorf("teed %v: the file has %q %d times:\n%s", teed, want, strings.Count(file, want), file)
			}
		}
		if strings.Contains(file+out, FileOnlyKey) {
			t.Errorf("teed %v: the mark was printed:\n%s\n%s", teed, file, out)
		}
	}
}

// A line marked StderrOnly goes to stderr and not to the file, teed or
// not; the mark itself is printed nowhere.
func TestStderrOnlyLinesStayOutOfTheFile(t *testing.T) {
	for _, teed := range []bool{false, true} {
		file, out := logged(t, teed, func(log *slog.Logger) {
			log = log.With("schedule", "monthly")
			log.Info("starting")
			log.Error("job did not succeed", StderrOnly(), "exit", 5)
			log.With(StderrOnly()).Warn("again")
		})
		if !strings.Contains(file, "msg=starting schedule=monthly") || strings.Contains(file, "did not succeed") || strings.Contains(file, "again") {
			t.Errorf("teed %v: file:\n%s", teed, file)
		}
		for _, want := range []string{"msg=starting", `msg="job did not succeed" schedule=monthly exit=5`, "msg=again schedule=monthly"} {
			if strings.Count(out, want) != 1 {
				t.Errorf("teed %v: stderr has %q %d times:\n%s", teed, want, strings.Count(out, want), out)
			}
		}
		if strings.Contains(file+out, StderrOnlyKey) {
			t.Errorf("teed %v: the mark was printed:\n%s\n%s", teed, file, out)
		}
	}
}

// logged runs write on a process's logger, its lines teed to stderr or
// not, and returns what the log file and stderr got.
func logged(t *testing.T, teed bool, write func(*slog.Logger)) (file, stderr string) {
	t.Helper()
	home := t.TempDir()
	var out bytes.Buffer
	p := &Process{Home: func() (string, error) { return home, nil }, Stderr: &out}
	if teed {
		p.TeeStderr()
	}
	write(slog.New(Lazy(p.Logger)))
	p.Close()
	raw, err := os.ReadFile(filepath.Join(home, "logs", Name))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw), out.String()
}
