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
