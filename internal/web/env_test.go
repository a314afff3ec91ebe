package web_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
	"github.com/bluemoon-mail/bluemoon/internal/web"
)

// console is a running console over a fresh home, for one test.
type console struct {
	t    *testing.T
	svc  *core.Service
	srv  *web.Server
	home string
	logs *testbin.Buffer // what the console logged, a line each
}

func startConsole(t *testing.T) *console {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := core.Open(ctx, core.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	return serveConsole(t, ctx, cancel, svc, home, web.Options{})
}

// serveConsole serves a console over svc (opened on home) until the test
// ends: then ctx is cancelled, svc closed, and also run.
func serveConsole(t *testing.T, ctx context.Context, cancel context.CancelFunc, svc *core.Service, home string, opts web.Options, also ...func()) *console {
	t.Helper()
	logs := &testbin.Buffer{}
	opts.Logf = func(f string, a ...any) { fmt.Fprintf(logs, f+"\n", a...) }
	srv, err := web.New(svc, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		svc.Close()
		for _, f := range also {
			f()
		}
	})
	return &console{t: t, svc: svc, srv: srv, home: home, logs: logs}
}

// client is a plain HTTP client logged in to the console with a cookie jar
// (for the checks that need no browser).
func (c *console) client() *http.Client {
	c.t.Helper()
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	resp, err := hc.Get(c.srv.LoginURL())
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("login: %s", resp.Status)
	}
	return hc
}

func splitAddr(t *testing.T, addr string) (host, port string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}
