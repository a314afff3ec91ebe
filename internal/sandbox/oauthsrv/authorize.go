package oauthsrv

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

var consentPage = template.Must(template.New("consent").Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><title>{{.W.Title}}</title></head><body>
<h1>{{.W.Title}}</h1>
<p>{{printf .W.Asks .ClientID}} {{.Scope}}</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="req" value="{{.ID}}">
<label>{{.W.Account}} <input type="email" name="email" value="{{.Email}}"></label>
<button type="submit" name="decision" value="allow">{{.W.Allow}}</button>
<button type="submit" name="decision" value="deny">{{.W.Cancel}}</button>
</form></body></html>`))

// consentData is what the consent page shows.
type consentData struct {
	W                                  *words
	ClientID, Scope, Action, ID, Email string
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><title>{{.W.ErrorTitle}}</title></head><body>
<h1>{{.Code}}</h1><p>{{.Text}}</p></body></html>`))

// pageError is an authorize-time problem the server shows in the browser
// instead of redirecting (unknown client, unregistered redirect URI), as
// real servers do so as not to send anything to an unverified address.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, status int, code, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	errorPage.Execute(w, map[string]any{"W": wordsFor(r), "Code": code, "Text": text})
}

// redirectMatches applies the loopback rule of both providers: scheme, host
// and path must match the registered URI; the port is ignored.
func (s *Server) redirectMatches(got string) bool {
	g, err1 := url.Parse(got)
	r, err2 := url.Parse(s.opts.RedirectURI)
	if err1 != nil || err2 != nil {
		return false
	}
	return g.Scheme == r.Scheme && g.Hostname() == r.Hostname() && g.Path == r.Path && g.RawQuery == ""
}

// tenantError is Microsoft's refusal of the tenant in a request's path:
// unknown (AADSTS90002), or not the home tenant of a single-tenant app
// (AADSTS50194). ok is false when the tenant is fine.
func (s *Server) tenantError(tenant string) (e oauthError, ok bool) {
	if s.opts.Flavor != provider.Microsoft {
		return oauthError{}, false
	}
	if err := provider.ValidateTenant(tenant); err != nil {
		return oauthError{400, "invalid_request", 90002, fmt.Sprintf("Tenant '%s' not found.", tenant)}, true
	}
	if s.opts.HomeTenant != "" && tenant != s.opts.HomeTenant {
		return oauthError{400, "invalid_request", 50194, fmt.Sprintf("Application '%s' is not configured as a multi-tenant application. "+
			"Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. "+
			"Use a tenant-specific endpoint or configure the application to be multi-tenant.", s.opts.ClientID)}, true
	}
	return oauthError{}, false
}

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	tenant := r.PathValue("tenant")
	if q.Get("client_id") != s.opts.ClientID {
		if s.opts.Flavor == provider.Microsoft {
			s.pageError(w, r, 400, "unauthorized_client", fmt.Sprintf("AADSTS700016: Application with identifier '%s' was not found in the directory.", q.Get("client_id")))
		} else {
			s.pageError(w, r, 401, "Error 401: invalid_client", "The OAuth client was not found.")
		}
		return
	}
	if e, bad := s.tenantError(tenant); bad {
		s.pageError(w, r, e.status, e.code, fmt.Sprintf("AADSTS%d: %s", e.aad, e.desc))
		return
	}
	redirect := q.Get("redirect_uri")
	if !s.redirectMatches(redirect) {
		s.pageError(w, r, 400, "redirect_uri_mismatch", fmt.Sprintf("The redirect URI '%s' does not match the ones registered (%s).", redirect, s.opts.RedirectURI))
		return
	}
	fail := func(code, desc string) {
		u, _ := url.Parse(redirect)
		v := url.Values{"error": {code}, "error_description": {desc}}
		if st := q.Get("state"); st != "" {
			v.Set("state", st)
		}
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
	}
	if q.Get("response_type") != "code" {
		fail("unsupported_response_type", "response_type must be code")
		return
	}
	scope := strings.TrimSpace(q.Get("scope"))
	if scope == "" {
		fail("invalid_request", "AADSTS900144: The request body must contain the following parameter: 'scope'.")
		return
	}
	if q.Get("code_challenge") == "" {
		fail("invalid_request", "PKCE is required: code_challenge missing.")
		return
	}
	if q.Get("code_challenge_method") != "S256" {
		fail("invalid_request", "code_challenge_method must be S256.")
		return
	}
	req := &authRequest{
		id: randomString("", 12), clientID: q.Get("client_id"), redirectURI: redirect,
		state: q.Get("state"), challenge: q.Get("code_challenge"),
		scope: scope, loginHint: q.Get("login_hint"), nonce: q.Get("nonce"),
	}
	if s.opts.Flavor == provider.Google {
		req.offline = q.Get("access_type") == "offline"
	} else {
		req.offline = hasScope(scope, "offline_access")
	}
	s.mu.Lock()
	auto, email := s.opts.AutoApprove, s.opts.Email
	if req.loginHint != "" {
		email = req.loginHint
	}
	if auto {
		s.mu.Unlock()
		s.redirectWithCode(w, r, req, email)
		return
	}
	s.pending[req.id] = req
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	consentPage.Execute(w, consentData{W: wordsFor(r), ClientID: req.clientID, Scope: scope, Action: "/consent", ID: req.id, Email: email})
}

func (s *Server) handleConsent(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.pageError(w, r, 400, "invalid_request", err.Error())
		return
	}
	s.mu.Lock()
	req := s.pending[r.PostForm.Get("req")]
	delete(s.pending, r.PostForm.Get("req"))
	email := s.opts.Email
	s.mu.Unlock()
	if req == nil {
		s.pageError(w, r, 400, "invalid_request", wordsFor(r).Expired)
		return
	}
	if e := strings.TrimSpace(r.PostForm.Get("email")); e != "" {
		email = e
	}
	if r.PostForm.Get("decision") != "allow" {
		u, _ := url.Parse(req.redirectURI)
		desc := "The user denied access."
		if s.opts.Flavor == provider.Microsoft {
			desc = "AADSTS65004: User declined to consent to access the app."
		}
		v := url.Values{"error": {"access_denied"}, "error_description": {desc}}
		if req.state != "" {
			v.Set("state", req.state)
		}
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusFound)
		return
	}
	s.redirectWithCode(w, r, req, email)
}

func (s *Server) redirectWithCode(w http.ResponseWriter, r *http.Request, req *authRequest, email string) {
	code := randomString("code-", 24)
	s.mu.Lock()
	s.codes[code] = &authCode{req: req, email: email, expires: s.now().Add(10 * time.Minute)}
	s.mu.Unlock()
	u, _ := url.Parse(req.redirectURI)
	v := url.Values{"code": {code}}
	if req.state != "" {
		v.Set("state", req.state)
	}
	if s.opts.Flavor == provider.Google {
		v.Set("scope", req.scope)
	}
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

var deviceLoginPage = template.Must(template.New("device").Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><title>{{.W.DeviceTitle}}</title></head><body>
<h1>{{.W.DeviceTitle}}</h1><p>{{.Message}}</p>
<form method="post" action="/devicelogin">
<label>{{.W.Code}} <input type="text" name="user_code" value="{{.Code}}"></label>
<label>{{.W.Account}} <input type="email" name="email" value="{{.Email}}"></label>
<button type="submit" name="decision" value="allow">{{.W.Allow}}</button>
<button type="submit" name="decision" value="deny">{{.W.Cancel}}</button>
</form></body></html>`))

var deviceDonePage = template.Must(template.New("device-done").Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><title>{{.W.DeviceTitle}}</title></head><body><p>{{.Text}}</p></body></html>`))

// handleDeviceLogin is Microsoft's https://microsoft.com/devicelogin: the
// user types the code shown by the app and approves or declines.
func (s *Server) handleDeviceLogin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	wd := wordsFor(r)
	s.mu.Lock()
	email := s.opts.Email
	s.mu.Unlock()
	if r.Method == http.MethodGet {
		deviceLoginPage.Execute(w, map[string]any{"W": wd, "Code": r.URL.Query().Get("otc"), "Email": email})
		return
	}
	r.ParseForm()
	code := strings.ToUpper(strings.TrimSpace(r.PostForm.Get("user_code")))
	if e := strings.TrimSpace(r.PostForm.Get("email")); e != "" {
		email = e
	}
	s.mu.Lock()
	var d *deviceRequest
	for _, x := range s.devices {
		if x.userCode == code && x.status == "pending" && s.now().Before(x.expires) {
			d = x
		}
	}
	if d != nil {
		d.email = email
		d.status = "denied"
		if r.PostForm.Get("decision") == "allow" {
			d.status = "approved"
		}
	}
	s.mu.Unlock()
	if d == nil {
		deviceLoginPage.Execute(w, map[string]any{"W": wd, "Message": wd.BadCode, "Email": email})
		return
	}
	text := wd.DeviceSignedIn
	if d.status == "denied" {
		text = wd.DeviceDeclined
	}
	deviceDonePage.Execute(w, map[string]any{"W": wd, "Text": text})
}

func hasScope(scope, want string) bool {
	for _, f := range strings.Fields(scope) {
		if strings.EqualFold(f, want) {
			return true
		}
	}
	return false
}
