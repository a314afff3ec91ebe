// Package engine tests the delivery engine through the real bluemoon
// binary, built once per test run: a process killed with SIGKILL at random
// moments, Ctrl-C against a slow server, a dead run shown as interrupted;
// and it holds the benchmark of a whole `bluemoon send`.
package engine

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

// binary returns the bluemoon command under test (testbin.Env names
// another build).
func binary(t testing.TB) string {
	t.Helper()
	return testbin.Path(t)
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
