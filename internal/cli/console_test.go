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

func TestConsoleServesLoopbackOncePerHome(t *testing.T) {
	home := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb testbin.Buffer
	done := make(chan int, 1)
	go func() {
		app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, IsTerminal: func() bool { return false }}
		done <- Run(ctx, app, []string{"--home", home, "console", "--no-browser"})
	}()
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if line, _, ok := strings.Cut(out.String(), "\n"); ok {
			url = line
		}
	}
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.Contains(url, "/login?token=") {
		cancel()
		t.Fatalf("console printed %q (stderr %q), want its one-time 127.0.0.1 address", out.String(), errb.String())
	}
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/accounts" {
		t.Fatalf("opening the printed address: %s at %s", resp.Status, resp.Request.URL)
	}
	if fi, err := os.Stat(filepath.Join(home, "console.json")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("console.json (it holds a secret) must be 0600: %v %v", fi, err)
	}

	// A second console on the same home opens the running one.
	r := runCLI(t, home, "", "console", "--no-browser")
	base := url[:strings.Index(url, "/login")]
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, base+"/login?token=") || strings.TrimSpace(r.Stdout) == url {
		t.Fatalf("second console: exit %d, stdout %q, stderr %q; want a fresh login address of %s", r.Code, r.Stdout, r.Stderr, base)
	}
	if !strings.Contains(r.Stderr, "already running") {
		t.Errorf("second console does not say one is running: %q", r.Stderr)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("console exit %d after its context ended; stderr %q", code, errb.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("console did not stop")
	}
	if _, err := os.Stat(filepath.Join(home, "console.json")); !os.IsNotExist(err) {
		t.Errorf("console.json left behind after the console stopped: %v", err)
	}
}

func TestConsoleRefusesAddressesOffLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:8080", "[::]:0"} {
		r := runCLI(t, t.TempDir(), "", "console", "--no-browser", "--addr", addr)
		if r.Code != 2 || !strings.Contains(r.Stderr, "127.0.0.1") {
			t.Errorf("--addr %s: exit %d, stderr %q; want 2 saying 127.0.0.1 only", addr, r.Code, r.Stderr)
		}
	}
}
