// Package engine tests the delivery engine through the real bluemoon
// binary, built once per test run: a process killed with SIGKILL at random
// moments, Ctrl-C against a slow server, a dead run shown as interrupted;
// and it holds the benchmark of a whole `bluemoon send`.
package engine

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// binEnv names a ready-made binary to test or measure instead of building
// one (scripts/bench compares two builds with it).
const binEnv = "BLUEMOON_TEST_BIN"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary returns the bluemoon command under test, built once.
func binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(binEnv); p != "" {
		return p
	}
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bluemoon-engine-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "bluemoon")
		if runtime.GOOS == "windows" {
			binPath += ".exe"
		}
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/bluemoon-mail/bluemoon/cmd/bluemoon").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// result is what one run of the binary printed and returned.
type result struct {
	Stdout, Stderr string
	Code           int
}

// run runs the binary on home to the end.
func run(t testing.TB, home string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"--home", home}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustRun(t testing.TB, home string, args ...string) result {
	t.Helper()
	r := run(t, home, args...)
	if r.Code != 0 {
		t.Fatalf("bluemoon %s: exit %d\n%s%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r
}
