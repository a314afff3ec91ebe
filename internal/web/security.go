package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// The console is a web server on the user's own machine, which any web page
// the user visits can try to reach. What stands between such a page and the
// user's mailboxes:
//   - Host must be the loopback address and port we listen on, so a page
//     whose own domain resolves to 127.0.0.1 (DNS rebinding) is refused;
//   - a session cookie, obtained only through the one-time token in the URL
//     that `bluemoon console` prints or opens (HttpOnly, SameSite=Strict);
//   - state-changing requests carry a same-origin Origin and the session's
//     CSRF token;
//   - a Content-Security-Policy that allows only our own script, with a
//     per-response nonce, and no other origin at all.

// randomToken returns n random bytes, base64url-encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error()) // the OS's RNG failing leaves nothing safe to do
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// session is one browser's login: the cookie value and its CSRF token.
type session struct {
	csrf    string
	created time.Time
}

// sessions holds the login tokens not yet used and the sessions made from them.
type sessions struct {
	mu       sync.Mutex
	oneTime  map[string]time.Time // token → expiry
	sessions map[string]*session  // cookie value → session
}

// oneTimeTTL bounds how long a printed URL can be used: long enough to copy
// it into a browser by hand, short enough that an old terminal log is harmless.
const oneTimeTTL = 10 * time.Minute

func newSessions() *sessions {
	return &sessions{oneTime: map[string]time.Time{}, sessions: map[string]*session{}}
}

// newLoginToken makes a token for the console's URL; it works once.
func (s *sessions) newLoginToken() string {
	t := randomToken(24)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for k, exp := range s.oneTime {
		if now.After(exp) {
			delete(s.oneTime, k)
		}
	}
	s.oneTime[t] = now.Add(oneTimeTTL)
	return t
}

// redeem trades a login token for a new session; ok is false when the
// token is unknown, used or expired.
func (s *sessions) redeem(token string) (id string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, found := s.oneTime[token]
	if !found {
		return "", false
	}
	delete(s.oneTime, token)
	if time.Now().After(exp) {
		return "", false
	}
	id = randomToken(32)
	s.sessions[id] = &session{csrf: randomToken(32), created: time.Now()}
	return id, true
}

func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions[id]
}

// hostAllowed reports whether a request's Host names this server: the
// loopback address or localhost, with our port.
func hostAllowed(host, port string) bool {
	h, p, err := net.SplitHostPort(host)
	if err != nil || p != port {
		return false
	}
	return h == "127.0.0.1" || strings.EqualFold(h, "localhost")
}

// originAllowed reports whether a state-changing request comes from one of
// our own pages. Browsers send Origin on every POST; a request without it
// is not from a page of ours.
func originAllowed(origin, port string) bool {
	for _, h := range []string{"127.0.0.1", "localhost"} {
		if origin == "http://"+h+":"+port {
			return true
		}
	}
	return false
}

// tokenEqual compares secrets in constant time.
func tokenEqual(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// securityHeaders sets what every response carries. The nonce lets our own
// <script> elements run and nothing else.
func securityHeaders(h http.Header, nonce string) {
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'self'; img-src 'self' data:; "+
		"font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// Not no-referrer: with it browsers send "Origin: null" on our own
	// form posts, and the Origin check would refuse them.
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
}

// allowMailFrame lets the page being answered frame a message's HTML body
// from this console (writeMailHTML), and nothing else.
func allowMailFrame(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", h.Get("Content-Security-Policy")+"; frame-src 'self'")
}

// writeMailHTML answers with a message's HTML body for an iframe of the
// console's page. The body is someone else's markup: the sandbox CSP gives
// it an opaque origin, runs none of its script and loads nothing from
// anywhere (remote images would tell a sender the message was opened).
func writeMailHTML(w http.ResponseWriter, html string) {
	h := w.Header()
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(html))
}
