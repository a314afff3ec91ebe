package cli

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

// startSandbox runs `bluemoon --home DIR sandbox --no-browser [args]` until
// the returned stop is called; it returns the printed login address and
// what the command said on stderr so far.
func startSandboxCLI(t *testing.T, dir string, args ...string) (url string, stderr func() string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb testbin.Buffer
	done := make(chan int, 1)
	go func() {
		app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, IsTerminal: func() bool { return false }}
		done <- Run(ctx, app, append([]string{"--home", dir, "sandbox", "--no-browser"}, args...))
	}()
	for deadline := time.Now().Add(30 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			url = line
		}
	}
	stop = func() int {
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(20 * time.Second):
			t.Fatal("the sandbox did not stop")
			return -1
		}
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		stop()
		t.Fatalf("sandbox printed %q (stderr %q), want its console's address", out.String(), errb.String())
	}
	return url, errb.String, stop
}

// The sandbox says where its home is, serves the console with the banner
// and the Inbox, keeps its home between runs (no accounts made twice) and
// --reset wipes it, saying so; a real data home is neither used nor reset.
func TestSandboxKeepsItsHomeUntilReset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sandbox")
	url, stderr, stop := startSandboxCLI(t, dir)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	base := url[:strings.Index(url, "/login")]
	for _, p := range []string{"/accounts", "/inbox"} {
		resp, err := hc.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		buf := make([]byte, 1<<16)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(b.String(), "sandbox-banner") {
			t.Fatalf("%s: %s, banner shown: %v", p, resp.Status, strings.Contains(b.String(), "sandbox-banner"))
		}
		if p == "/accounts" && (!strings.Contains(b.String(), "relay@example.org") || !strings.Contains(b.String(), "info@contoso.example")) {
			t.Fatalf("the sandbox's accounts page lacks its accounts:\n%s", b.String())
		}
	}
	first := stderr()
	if !strings.Contains(first, "Sandbox home: "+dir) || !strings.Contains(first, "Made: ") || !strings.Contains(first, "account relay") {
		t.Fatalf("the first run says %q", first)
	}
	// A second `bluemoon sandbox` on the running home opens the running one.
	r := runCLI(t, dir, "", "sandbox", "--no-browser")
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, base+"/login?token=") {
		t.Fatalf("a second sandbox: exit %d, %q %q", r.Code, r.Stdout, r.Stderr)
	}
	// --reset is refused while it runs.
	if r := runCLI(t, dir, "", "sandbox", "--no-browser", "--reset"); r.Code != 2 || !strings.Contains(r.Stderr, "running") {
		t.Fatalf("--reset while running: exit %d, %q", r.Code, r.Stderr)
	}
	if code := stop(); code != 0 {
		t.Fatalf("sandbox exit %d: %s", code, stderr())
	}
	state, err := os.ReadFile(filepath.Join(dir, "sandbox", "state.json"))
	if err != nil {
		t.Fatal(err)
	}

	_, stderr, stop = startSandboxCLI(t, dir)
	again := stderr()
	stop()
	if strings.Contains(again, "Made: ") {
		t.Fatalf("a restart made things again: %q", again)
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "sandbox", "state.json")); string(now) != string(state) {
		t.Errorf("the stand-ins' ports changed across a restart:\n%s\n%s", state, now)
	}

	_, stderr, stop = startSandboxCLI(t, dir, "--reset")
	reset := stderr()
	stop()
	if !strings.Contains(reset, "Removed the sandbox at "+dir) || !strings.Contains(reset, "Made: ") {
		t.Fatalf("--reset says %q", reset)
	}

	real := t.TempDir()
	mustRun(t, real, "account", "add", "work", "--from", "a@example.com", "--smtp", "127.0.0.1:2525", "--auth", "none", "--security", "none")
	if r := runCLI(t, real, "", "sandbox", "--no-browser", "--reset"); r.Code != 2 || !strings.Contains(r.Stderr, "not a sandbox") {
		t.Fatalf("--reset on a real home: exit %d, %q", r.Code, r.Stderr)
	}
	if r := runCLI(t, real, "", "sandbox", "--no-browser"); r.Code != 2 || !strings.Contains(r.Stderr, "not a sandbox") {
		t.Fatalf("sandbox on a real home: exit %d, %q", r.Code, r.Stderr)
	}
	if r := runCLI(t, real, "", "account", "list"); r.Code != 0 || !strings.Contains(r.Stdout, "work") {
		t.Fatalf("the real home lost its account: %q %q", r.Stdout, r.Stderr)
	}
}
