// Package web is the local web console: the second face of bluemoon, beside
// the CLI, for people who would rather click. It serves server-rendered
// pages (html/template, every asset embedded) on 127.0.0.1 only and calls
// internal/core for everything it does; no SQL, token or SMTP logic lives
// here. The pages follow the admin guide's screens: accounts (the guide's
// メール送信 tab), 詳細設定 with the hidden credential-file area, テスト送信.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/mailbox"
)

// Options configure a console.
type Options struct {
	// Addr is where to listen; only a loopback address is accepted.
	// Default 127.0.0.1:0 (a free port).
	Addr string
	// Sandbox shows the rehearsal banner on every page.
	Sandbox bool
	// Inbox is the sandbox's mailbox, shown at /inbox (sandbox only; the
	// Inbox's pages are not found otherwise).
	Inbox *mailbox.Store
	// Logf receives one line per notable event (a refused request, a
	// sign-in started). Never a token or secret.
	Logf func(format string, args ...any)
}

// Server is one running console.
type Server struct {
	svc     *core.Service
	opts    Options
	ln      net.Listener
	port    string
	http    *http.Server
	sess    *sessions
	cats    catalogs
	pages   map[string]*template.Template
	stash   stash         // multi-step forms' state
	signIns signIns       // sign-ins started here, by account
	drafts  *drafts       // new deliveries being prepared, and their uploads
	install installResult // the last "write the set-up" of the schedules page
	starts  starts        // the forms that started a delivery (once.go)
	// launchSecret lets a second `bluemoon console` on the same home ask
	// this one for a fresh login URL instead of starting another console.
	launchSecret string
}

// New prepares a console over svc; Listen binds it.
func New(svc *core.Service, opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	cats, err := loadCatalogs(assets)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages(assets)
	if err != nil {
		return nil, err
	}
	return &Server{svc: svc, opts: opts, sess: newSessions(), cats: cats, pages: pages, launchSecret: randomToken(32),
		drafts: newDrafts(svc.Home())}, nil
}

// ErrNotLoopback: the console refuses to listen anywhere a neighbour could reach.
var ErrNotLoopback = errors.New("the console listens on 127.0.0.1 only")

// Listen binds the console's address (127.0.0.1 only).
func (s *Server) Listen() error {
	host, _, err := net.SplitHostPort(s.opts.Addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", s.opts.Addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		return fmt.Errorf("--addr %q: %w", s.opts.Addr, ErrNotLoopback)
	}
	ln, err := net.Listen("tcp4", s.opts.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", s.opts.Addr, err)
	}
	s.ln = ln
	_, s.port, _ = net.SplitHostPort(ln.Addr().String())
	s.http = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		// Uploads (lists, attachments) can be large on a slow disk; the
		// peer is the user's own browser on this machine.
		ReadTimeout: 10 * time.Minute,
		IdleTimeout: 2 * time.Minute,
	}
	return nil
}

// BaseURL is the console's address, without a login token.
func (s *Server) BaseURL() string { return "http://127.0.0.1:" + s.port }

// LoginURL is an address that logs a browser in once.
func (s *Server) LoginURL() string {
	return s.BaseURL() + "/login?token=" + s.sess.newLoginToken()
}

// LaunchSecret is what a second console process presents to get a new login URL.
func (s *Server) LaunchSecret() string { return s.launchSecret }

// Serve answers requests until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context) error {
	// Schedules run by this console (svc.StartServe) stop with it.
	defer s.svc.StopServe()
	errc := make(chan error, 1)
	go func() { errc <- s.http.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.http.Shutdown(sctx)
		return nil
	}
}

// Handler is the console's handler, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.routes() }

func (s *Server) logf(format string, args ...any) { s.opts.Logf(format, args...) }

// sessionCookie is per port: browsers share cookies across the ports of
// 127.0.0.1, and two consoles (two homes) must not log each other out.
func (s *Server) sessionCookie() string { return "bluemoon_session_" + s.port }

// staticFS is the embedded assets' static folder.
func staticFS() fs.FS {
	sub, err := fs.Sub(assets, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

func isSafeMethod(m string) bool { return m == http.MethodGet || m == http.MethodHead }

// plainError writes a short plain-text refusal (before a page can be drawn:
// wrong Host, cross-origin POST).
func plainError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(strings.TrimSpace(msg) + "\n"))
}
