package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// loopback is the one-shot HTTP listener on 127.0.0.1 that the browser is
// redirected to after sign-in.
type loopback struct {
	srv      *http.Server
	redirect string // the redirect_uri sent to the provider
	path     string
	state    string
	results  chan callback
	once     sync.Once
	// warn reports a refused request (a wrong state) while the sign-in
	// goes on waiting; refused counts them.
	warn    func(string)
	warnMu  sync.Mutex
	refused int
}

// callback is what the browser brought back; the handler waits on reply
// to show the final outcome (after the code exchange) on the landing page.
type callback struct {
	code  string
	err   error
	reply chan landing
}

type landing struct {
	ok       bool
	identity string
	why      string // English
	whyJa    string // Japanese
}

// loopbackRedirect works out where to listen and which redirect_uri to
// send from the credential's redirect_uri: http on a loopback address,
// with its port if it names one, else a free port.
func loopbackRedirect(configured string) (listenAddr string, u *url.URL, err error) {
	u, err = url.Parse(configured)
	if err != nil || u.Scheme != "http" {
		return "", nil, fmt.Errorf("redirect_uri %q must be an http://127.0.0.1 address for a desktop sign-in", configured)
	}
	host := u.Hostname()
	switch host {
	case "127.0.0.1", "localhost":
		// localhost is bound on IPv4: a browser resolving it to ::1 first
		// falls back to 127.0.0.1, and nothing is exposed beyond the host.
		listenAddr = "127.0.0.1"
	case "::1":
		listenAddr = "::1"
	default:
		return "", nil, fmt.Errorf("redirect_uri %q is not a loopback address (use http://127.0.0.1)", configured)
	}
	port := u.Port()
	if port == "" {
		port = "0"
	}
	return net.JoinHostPort(listenAddr, port), u, nil
}

func newLoopback(configured, state string, warn func(string)) (*loopback, error) {
	addr, u, err := loopbackRedirect(configured)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if u.Port() != "" {
			return nil, fmt.Errorf("cannot listen on %s for the sign-in redirect: %w; another program is using port %s "+
				"(given in the credential's redirect_uri %s): close it, or remove the port from redirect_uri so a free one is picked",
				addr, err, u.Port(), configured)
		}
		return nil, fmt.Errorf("cannot listen on %s for the sign-in redirect: %w", addr, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	u.Host = net.JoinHostPort(u.Hostname(), strconv.Itoa(port))
	l := &loopback{redirect: u.String(), path: u.Path, state: state, results: make(chan callback, 1), warn: warn}
	if l.path == "" {
		l.path = "/"
	}
	l.srv = &http.Server{Handler: http.HandlerFunc(l.serve), ReadHeaderTimeout: 10 * time.Second}
	go l.srv.Serve(ln)
	return l, nil
}

// ErrStateMismatch: the redirect's state is not the one this sign-in sent.
var ErrStateMismatch = errors.New("the sign-in response carried a wrong 'state' and was refused as a possible forgery (cross-site request forgery); start the sign-in again")

// AccessDeniedError: the user (or a policy) refused consent.
type AccessDeniedError struct{ Code, Description string }

func (e *AccessDeniedError) Error() string {
	msg := "sign-in refused: consent was not given (" + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg + "). Run the sign-in again and choose Allow / Accept, or ask your administrator to grant consent"
}

// parseCallback checks a redirect's query against the expected state.
func parseCallback(q url.Values, state string) (string, error) {
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		return "", ErrStateMismatch
	}
	if e := q.Get("error"); e != "" {
		if e == "access_denied" || e == "consent_required" || e == "interaction_required" {
			return "", &AccessDeniedError{Code: e, Description: q.Get("error_description")}
		}
		return "", fmt.Errorf("the authorization server refused the sign-in: %s: %s", e, q.Get("error_description"))
	}
	if q.Get("code") == "" {
		return "", errors.New("the sign-in response has neither a code nor an error")
	}
	return q.Get("code"), nil
}

func (l *loopback) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.URL.Path != l.path || (!q.Has("code") && !q.Has("error") && !q.Has("state")) {
		http.NotFound(w, r) // favicon and the like: not the redirect
		return
	}
	// A request with a wrong state did not come from this sign-in's
	// browser: another program on this machine, or a link someone crafted.
	// It gets an error page and a line in the log, but must not end the
	// sign-in, or anyone able to reach 127.0.0.1 could cancel every
	// sign-in by guessing the port. The real redirect is still awaited.
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(l.state)) != 1 {
		l.warnMu.Lock()
		l.refused++
		if l.warn != nil {
			l.warn(fmt.Sprintf("refused a request to the sign-in address with a wrong 'state' (a forged or stray link, from %s); still waiting for your sign-in", r.RemoteAddr))
		}
		l.warnMu.Unlock()
		w.WriteHeader(http.StatusBadRequest)
		renderLanding(w, landingFor(ErrStateMismatch))
		return
	}
	first := false
	l.once.Do(func() { first = true })
	if !first {
		w.WriteHeader(http.StatusGone)
		renderLanding(w, landing{why: "this sign-in has already finished.", whyJa: "このサインインはすでに終了しています。"})
		return
	}
	code, err := parseCallback(q, l.state)
	cb := callback{code: code, err: err, reply: make(chan landing, 1)}
	l.results <- cb
	var page landing
	select {
	case page = <-cb.reply:
	case <-r.Context().Done():
		return
	case <-time.After(90 * time.Second):
		page = landing{why: "the program did not finish the sign-in in time; see the terminal.", whyJa: "時間内に完了しませんでした。ターミナルを確認してください。"}
	}
	if !page.ok {
		w.WriteHeader(http.StatusBadRequest)
	}
	renderLanding(w, page)
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// refusedCount is how many requests with a wrong state were refused.
func (l *loopback) refusedCount() int {
	l.warnMu.Lock()
	defer l.warnMu.Unlock()
	return l.refused
}

func (l *loopback) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	l.srv.Shutdown(ctx)
}

var landingPage = template.Must(template.New("landing").Parse(`<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>bluemoon</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;line-height:1.6}</style></head><body>
{{if .ok}}<h1>サインインしました / Signed in</h1>
<p>{{if .identity}}{{.identity}} で{{end}}サインインしました。このタブは閉じてかまいません。</p>
<p>Sign-in worked{{if .identity}} ({{.identity}}){{end}}. You can close this tab.</p>
{{else}}<h1>サインインできませんでした / Sign-in failed</h1>
<p>{{.whyJa}}</p><p>{{.why}}</p>
<p>このタブを閉じて、ターミナルの案内に従ってください。 / Close this tab and follow the instructions in the terminal.</p>{{end}}
</body></html>`))

func renderLanding(w http.ResponseWriter, p landing) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	landingPage.Execute(w, map[string]any{"ok": p.ok, "identity": p.identity, "why": p.why, "whyJa": p.whyJa})
}

// landingFor words err for the landing page, in both languages.
func landingFor(err error) landing {
	var ad *AccessDeniedError
	switch {
	case errors.Is(err, ErrStateMismatch):
		return landing{why: "The response's 'state' did not match this sign-in, so it was refused as a possible forgery.",
			whyJa: "応答の state がこのサインインと一致しないため、偽装された要求の可能性があるとして拒否しました。"}
	case errors.As(err, &ad):
		return landing{why: "Access was not allowed (consent was refused).", whyJa: "アクセスが許可されませんでした（同意が拒否されました）。"}
	}
	return landing{why: "The sign-in could not be completed: " + err.Error(), whyJa: "サインインを完了できませんでした。"}
}
