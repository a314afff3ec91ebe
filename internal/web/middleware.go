package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

type ctxKey int

const (
	keyNonce ctxKey = iota
	keySession
	keyLang
)

// guard wraps every request: Host check, security headers with a fresh
// nonce, the one-time login, the session, and for state-changing requests
// the Origin and CSRF checks.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, s.port) {
			s.logf("console: refused a request for host %q (only 127.0.0.1:%s is served)", r.Host, s.port)
			plainError(w, http.StatusMisdirectedRequest, "This console answers only at http://127.0.0.1:"+s.port+"/ .")
			return
		}
		nonce := randomToken(18)
		securityHeaders(w.Header(), nonce)
		lang := pickLang(r)
		if q := r.URL.Query().Get("lang"); q == lang {
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteStrictMode, HttpOnly: true})
		}
		ctx := context.WithValue(r.Context(), keyNonce, nonce)
		ctx = context.WithValue(ctx, keyLang, lang)
		r = r.WithContext(ctx)

		switch {
		case strings.HasPrefix(r.URL.Path, "/static/"):
			next.ServeHTTP(w, r)
			return
		case r.URL.Path == "/login":
			s.login(w, r)
			return
		case r.URL.Path == "/_launch":
			s.launch(w, r)
			return
		}
		var sess *session
		if c, err := r.Cookie(s.sessionCookie()); err == nil {
			sess = s.sess.get(c.Value)
		}
		if sess == nil {
			s.renderStatus(w, r, http.StatusUnauthorized, "nosession", nil)
			return
		}
		if !isSafeMethod(r.Method) {
			if !originAllowed(r.Header.Get("Origin"), s.port) {
				s.logf("console: refused %s %s from origin %q", r.Method, r.URL.Path, r.Header.Get("Origin"))
				plainError(w, http.StatusForbidden, "Refused: this request did not come from the console's own page.")
				return
			}
			tok := r.Header.Get("X-CSRF-Token")
			if tok == "" {
				var tooLarge *http.MaxBytesError
				if tok, tooLarge = formValueNoParse(w, r, "csrf"); tooLarge != nil {
					s.renderStatus(w, r, http.StatusRequestEntityTooLarge, "toolarge", []any{tooLarge.Limit >> 20})
					return
				}
			}
			if !tokenEqual(tok, sess.csrf) {
				s.logf("console: refused %s %s without a valid CSRF token", r.Method, r.URL.Path)
				if r.Header.Get("X-CSRF-Token") != "" {
					plainError(w, http.StatusForbidden, "Refused: the form has expired or did not come from the console. Reload the page and try again.")
					return
				}
				// A form of this console's page from before the browser
				// logged in again (another tab): said in the person's words.
				s.renderStatus(w, r, http.StatusForbidden, "expired", nil)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), keySession, sess)))
	})
}

// formValueNoParse reads a form field for the CSRF check. For a multipart
// upload it parses the form (the handler reads it from r.MultipartForm
// afterwards), bounded like every upload: a body past maxUploadBytes is
// refused (tooLarge) before it fills the disk.
func formValueNoParse(w http.ResponseWriter, r *http.Request, key string) (value string, tooLarge *http.MaxBytesError) {
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "multipart/form-data") {
		if r.ContentLength > maxUploadBytes {
			// Said before a byte of it is read.
			return "", &http.MaxBytesError{Limit: maxUploadBytes}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxUploadBytes)
		if err := r.ParseMultipartForm(maxMemoryUpload); err != nil {
			errors.As(err, &tooLarge)
			return "", tooLarge
		}
		return r.FormValue(key), nil
	}
	return r.PostFormValue(key), nil
}

// maxMemoryUpload is how much of an upload is held in memory; the rest
// spills to a temporary file.
const maxMemoryUpload = 8 << 20

// login trades the one-time token in the URL for a session cookie and sends
// the browser on without the token in its address bar or history.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	id, ok := s.sess.redeem(r.URL.Query().Get("token"))
	if !ok {
		s.renderStatus(w, r, http.StatusUnauthorized, "badtoken", nil)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookie(), Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	next := r.URL.Query().Get("next")
	if u, err := url.Parse(next); next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// launch answers a second `bluemoon console` on the same home with a fresh
// login URL, so it opens this console instead of starting another.
func (s *Server) launch(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !tokenEqual(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), s.launchSecret) {
		plainError(w, http.StatusForbidden, "Refused.")
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(s.LoginURL()))
}

func nonceOf(r *http.Request) string {
	n, _ := r.Context().Value(keyNonce).(string)
	return n
}

func sessionOf(r *http.Request) *session {
	s, _ := r.Context().Value(keySession).(*session)
	return s
}

func langOf(r *http.Request) string {
	l, _ := r.Context().Value(keyLang).(string)
	if l == "" {
		return "en"
	}
	return l
}
