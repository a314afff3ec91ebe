package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// result is what one in-process run of the CLI printed and returned.
type result struct {
	Stdout, Stderr string
	Code           int
}

// runCLI runs bluemoon in-process with --home set to home and stdin
// answering stdin (not a terminal), as cron or a script would.
func runCLI(t *testing.T, home string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{
		Stdin:      strings.NewReader(stdin),
		Stdout:     &out,
		Stderr:     &errb,
		IsTerminal: func() bool { return false },
	}
	code := Run(context.Background(), app, append([]string{"--home", home}, args...))
	return result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// mustRun is runCLI that fails the test on a non-zero exit.
func mustRun(t *testing.T, home string, args ...string) result {
	t.Helper()
	r := runCLI(t, home, "", args...)
	if r.Code != 0 {
		t.Fatalf("bluemoon %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r
}

func TestUnknownCommandIsUsageError(t *testing.T) {
	r := runCLI(t, t.TempDir(), "", "no-such-command")
	if r.Code != 2 {
		t.Fatalf("exit %d, want 2; stderr %q", r.Code, r.Stderr)
	}
	if !strings.Contains(r.Stderr, "unknown command") {
		t.Fatalf("stderr %q does not name the problem", r.Stderr)
	}
}
