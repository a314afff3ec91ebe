package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/bluemoon-mail/bluemoon/internal/core"
)

// Signing in from the console: the provider's page opens in a new tab, the
// core's 127.0.0.1 listener takes the redirect, and the page that started
// it polls until it knows who signed in.

func (s *Server) signInRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /accounts/{name}/signin", s.signInStart)
	mux.HandleFunc("GET /accounts/{name}/signin", s.signInWait)
	mux.HandleFunc("GET /accounts/{name}/signin/status", s.signInStatus)
	mux.HandleFunc("POST /accounts/{name}/signout", s.signOut)
}

// signIns remembers the sign-ins this console started, so their outcome
// can still be read after the core has finished with them.
type signIns struct {
	mu sync.Mutex
	m  map[string]*core.SignIn
}

func (si *signIns) set(name string, sig *core.SignIn) {
	si.mu.Lock()
	defer si.mu.Unlock()
	if si.m == nil {
		si.m = map[string]*core.SignIn{}
	}
	si.m[name] = sig
}

func (si *signIns) get(name string) *core.SignIn {
	si.mu.Lock()
	defer si.mu.Unlock()
	return si.m[name]
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) signInStart(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	v := s.newView(r, "accounts", nil)
	sig, err := s.svc.StartSignIn(r.Context(), name, core.SignInOptions{Mode: core.SignInLink})
	var busy *core.BusyError
	if errors.As(err, &busy) {
		// A sign-in already waits (another tab pressed the button): show
		// the same page again rather than a second one.
		if p := s.svc.PendingSignIn(name); p != nil {
			sig, err = p, nil
		}
	}
	if err != nil {
		p := v.explain(err)
		if wantsJSON(r) {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": p.Message + " " + p.Fix})
			return
		}
		s.renderOAuth(w, r, http.StatusUnprocessableEntity, nil, err)
		return
	}
	s.signIns.set(name, sig)
	s.logf("console: sign-in of account %s started", name)
	status := "/accounts/" + url.PathEscape(name) + "/signin/status"
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, map[string]any{"url": sig.Prompt.URL, "status": status, "message": v.T("signin.waiting")})
		return
	}
	http.Redirect(w, r, "/accounts/"+url.PathEscape(name)+"/signin", http.StatusSeeOther)
}

// signInState is a sign-in as the page's script reads it.
type signInState struct {
	State    string `json:"state"` // waiting, done, failed, none
	Identity string `json:"identity,omitempty"`
	Message  string `json:"message"`
	URL      string `json:"url,omitempty"`
}

func (s *Server) stateOf(v *view, name string) signInState {
	sig := s.signIns.get(name)
	if sig == nil {
		return signInState{State: "none", Message: v.T("signin.none")}
	}
	res, err, finished := sig.Result()
	switch {
	case !finished:
		return signInState{State: "waiting", Message: v.T("signin.waiting"), URL: sig.Prompt.URL}
	case err != nil:
		p := v.explain(err)
		return signInState{State: "failed", Message: strings.TrimSpace(p.Message + " " + p.Fix)}
	}
	msg := v.T("signin.done", res.Identity)
	if res.Identity == "" {
		msg = v.T("signin.done.unknown")
	}
	if res.Mismatch {
		msg += " " + v.T("signin.mismatch", res.Expected, res.Identity)
	}
	if res.NoRefreshToken {
		msg += " " + v.T("signin.norefresh", v.When(res.Expiry))
	}
	return signInState{State: "done", Identity: res.Identity, Message: msg}
}

func (s *Server) signInStatus(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.stateOf(s.newView(r, "accounts", nil), r.PathValue("name")))
}

// signInWait is the page for a browser without script: a link to the
// provider and a refresh every few seconds until the sign-in ends.
func (s *Server) signInWait(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	v := s.newView(r, "accounts", nil)
	st := s.stateOf(v, name)
	if st.State == "done" {
		http.Redirect(w, r, "/accounts/"+url.PathEscape(name)+"/oauth", http.StatusSeeOther)
		return
	}
	v.Title = v.T("signin.title")
	v.Data = map[string]any{"Account": name, "State": st}
	s.render(w, http.StatusOK, "signin_wait", v)
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	res, err := s.svc.SignOut(r.Context(), name)
	if err != nil {
		s.renderOAuth(w, r, http.StatusUnprocessableEntity, nil, err)
		return
	}
	q := url.Values{"signedout": {"1"}}
	if res.HadSignIn && !res.Revoked {
		q.Add("warn", "not_revoked")
		if errors.Is(res.RevokeErr, core.ErrNoRevocation) {
			q.Set("warn", "no_revocation")
		}
	}
	http.Redirect(w, r, "/accounts/"+url.PathEscape(name)+"/oauth?"+q.Encode(), http.StatusSeeOther)
}
