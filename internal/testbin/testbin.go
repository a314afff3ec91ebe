// Package testbin gives tests the real bluemoon command, built once per
// test binary, so that they run it as a user would. Only tests import it.
package testbin

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Env names a ready-made binary to test or measure instead of building one
// (scripts/bench compares two builds with it).
const Env = "BLUEMOON_TEST_BIN"

var (
	once sync.Once
	path string
	err  error
)

// Path returns the bluemoon command under test: $BLUEMOON_TEST_BIN, or
// cmd/bluemoon built into a temporary folder on first use. With -short
// the test is skipped rather than wait for a build.
func Path(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv(Env); p != "" {
		return p
	}
	if testing.Short() {
		tb.Skip("builds the bluemoon binary; skipped with -short")
	}
	once.Do(func() {
		var dir string
		if dir, err = os.MkdirTemp("", "bluemoon-test-bin-"); err != nil {
			return
		}
		path = filepath.Join(dir, "bluemoon")
		if runtime.GOOS == "windows" {
			path += ".exe"
		}
		if out, berr := exec.Command("go", "build", "-o", path, "github.com/bluemoon-mail/bluemoon/cmd/bluemoon").CombinedOutput(); berr != nil {
			err = fmt.Errorf("go build: %v\n%s", berr, out)
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

// Buffer collects a child process's output while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
