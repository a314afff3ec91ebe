package oauthsrv

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// oauthError is one error reply of the token endpoint in the provider's
// own JSON shape.
type oauthError struct {
	status int
	code   string // "invalid_grant"
	aad    int    // Microsoft's AADSTS number, 0 for Google
	desc   string // text after "AADSTSnnn: " (Microsoft) or the whole description
}

func (s *Server) writeError(w http.ResponseWriter, e oauthError) {
	body := map[string]any{"error": e.code, "error_description": e.desc}
	if s.opts.Flavor == provider.Microsoft && e.aad != 0 {
		body["error_description"] = fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s",
			e.aad, e.desc, randomString("", 8), randomString("", 8), s.now().UTC().Format("2006-01-02 15:04:05Z"))
		body["error_codes"] = []int{e.aad}
		body["timestamp"] = s.now().UTC().Format("2006-01-02 15:04:05Z")
		body["trace_id"] = randomString("", 8)
		body["correlation_id"] = randomString("", 8)
		body["error_uri"] = s.url + "/error?code=" + strconv.Itoa(e.aad)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(body)
}

// Google's answer to any dead refresh token, whatever killed it.
var googleDead = oauthError{400, "invalid_grant", 0, "Token has been expired or revoked."}

// msReused is Microsoft's answer to a grant revoked because a rotated-out
// refresh token came back.
var msReused = oauthError{400, "invalid_grant", 70000, "The provided value for the 'refresh_token' is not valid: the refresh token was already used and the grant has been revoked."}

// msErrors are the AADSTS replies FailRefresh can inject, worded as
// Microsoft words them.
var msErrors = map[string]oauthError{
	"700082":  {400, "invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was issued on 2026-01-01T00:00:00Z and was inactive for 90.00:00:00."},
	"50173":   {400, "invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password."},
	"50076":   {400, "interaction_required", 50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access 'outlook.office.com'."},
	"50078":   {400, "interaction_required", 50078, "Presented multi-factor authentication has expired due to policies configured by your administrator, you must refresh your multi-factor authentication to access 'outlook.office.com'."},
	"70043":   {400, "invalid_grant", 70043, "The refresh token has expired or is invalid due to sign-in frequency checks by conditional access."},
	"65001":   {400, "invalid_grant", 65001, "The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource."},
	"50194":   {400, "invalid_request", 50194, "Application is not configured as a multi-tenant application. Usage of the /common endpoint is not supported."},
	"7000218": {401, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."},
	"700025":  {401, "invalid_client", 700025, "Client is public so neither 'client_assertion' nor 'client_secret' should be presented."},
	"900144":  {400, "invalid_request", 900144, "The request body must contain the following parameter: 'scope'."},
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.writeError(w, oauthError{400, "invalid_request", 900144, "The request body must be form-encoded."})
		return
	}
	f := r.PostForm
	if e, bad := s.tenantError(r.PathValue("tenant")); bad {
		s.writeError(w, e)
		return
	}
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if u, p, ok := r.BasicAuth(); ok {
		clientID, secret = u, p
	}
	if clientID != s.opts.ClientID {
		if s.opts.Flavor == provider.Google {
			s.writeError(w, oauthError{401, "invalid_client", 0, "The OAuth client was not found."})
		} else {
			s.writeError(w, oauthError{400, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory.", clientID)})
		}
		return
	}
	if e, bad := s.checkSecret(secret); bad {
		s.writeError(w, e)
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		s.exchangeCode(w, f.Get("code"), f.Get("redirect_uri"), f.Get("code_verifier"))
	case "refresh_token":
		s.refreshGrant(w, f.Get("refresh_token"), f.Get("scope"), f.Has("scope"))
	case "urn:ietf:params:oauth:grant-type:device_code":
		s.deviceToken(w, f.Get("device_code"))
	default:
		s.writeError(w, oauthError{400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."})
	}
}

func (s *Server) checkSecret(secret string) (oauthError, bool) {
	want := s.opts.ClientSecret
	if s.opts.Flavor == provider.Google {
		switch {
		case secret == "":
			return oauthError{400, "invalid_request", 0, "client_secret is missing."}, true
		case secret != want:
			return oauthError{401, "invalid_client", 0, "Unauthorized"}, true
		}
		return oauthError{}, false
	}
	switch {
	case want == "" && secret != "":
		return msErrors["700025"], true
	case want != "" && secret == "":
		return msErrors["7000218"], true
	case want != "" && secret != want:
		return oauthError{401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."}, true
	}
	return oauthError{}, false
}

func (s *Server) exchangeCode(w http.ResponseWriter, code, redirect, verifier string) {
	google := s.opts.Flavor == provider.Google
	s.mu.Lock()
	c := s.codes[code]
	var e *oauthError
	switch {
	case c == nil && google:
		e = &oauthError{400, "invalid_grant", 0, "Malformed auth code."}
	case c == nil:
		e = &oauthError{400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."}
	case c.used && google:
		e = &oauthError{400, "invalid_grant", 0, "Bad Request"}
	case c.used:
		e = &oauthError{400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token."}
	case !s.now().Before(c.expires) && google:
		e = &oauthError{400, "invalid_grant", 0, "Bad Request"}
	case !s.now().Before(c.expires):
		e = &oauthError{400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource."}
	case redirect != c.req.redirectURI && google:
		e = &oauthError{400, "redirect_uri_mismatch", 0, "Bad Request"}
	case redirect != c.req.redirectURI:
		e = &oauthError{400, "invalid_grant", 50148, "The redirect_uri does not match the one used in the authorization request."}
	case verifier == "" && google:
		e = &oauthError{400, "invalid_grant", 0, "Missing code verifier."}
	case verifier == "":
		e = &oauthError{400, "invalid_request", 900144, "The request body must contain the following parameter: 'code_verifier'."}
	case s256(verifier) != c.req.challenge && google:
		e = &oauthError{400, "invalid_grant", 0, "Invalid code verifier."}
	case s256(verifier) != c.req.challenge:
		e = &oauthError{400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request."}
	}
	if c != nil {
		c.used = true
	}
	if e != nil {
		s.mu.Unlock()
		s.writeError(w, *e)
		return
	}
	g := &grant{email: c.email, scopes: strings.Fields(c.req.scope), offline: c.req.offline,
		openid: hasScope(c.req.scope, "openid"), nonce: c.req.nonce}
	resp := s.addGrant(g)
	s.mu.Unlock()
	writeJSON(w, resp)
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// resourceScopes are the scopes an access token carries. Microsoft's
// token is for one resource — the first one the request names (a refresh's
// scope), else the first the sign-in asked for — so OpenID scopes and
// other resources' scopes stay out of it: SMTP.Send and Graph's Mail.Send
// need two tokens from the one refresh token.
func (s *Server) resourceScopes(scopes []string, requested string) []string {
	if s.opts.Flavor != provider.Microsoft {
		return scopes
	}
	want := ""
	for _, sc := range append(strings.Fields(requested), scopes...) {
		if want = resourceOf(sc); want != "" {
			break
		}
	}
	var out []string
	for _, sc := range scopes {
		if r := resourceOf(sc); r != "" && r == want {
			out = append(out, sc)
		}
	}
	return out
}

// resourceOf is the resource a Microsoft scope belongs to: the URL before
// the permission, Microsoft Graph for a bare permission ("Mail.Send"), ""
// for the OpenID scopes.
func resourceOf(sc string) string {
	switch strings.ToLower(sc) {
	case "offline_access", "openid", "email", "profile":
		return ""
	}
	if i := strings.LastIndex(sc, "/"); i > len("https://") {
		return strings.ToLower(sc[:i])
	}
	return "https://graph.microsoft.com"
}

// addGrant records a new grant (a finished sign-in), starts its refresh
// token's lifetime and issues its first tokens. s.mu must be held.
func (s *Server) addGrant(g *grant) map[string]any {
	if s.opts.RefreshTTL > 0 {
		g.refreshExp = s.now().Add(s.opts.RefreshTTL)
	}
	s.grants = append(s.grants, g)
	return s.issue(g, true, "")
}

// issue mints an access token (and, on first issue or Microsoft
// rotation, a refresh token) for g, for the resource of the requested
// scope (Microsoft). s.mu must be held.
func (s *Server) issue(g *grant, first bool, requested string) map[string]any {
	scopes := s.resourceScopes(g.scopes, requested)
	prefix := "eyJ0eXAi.sandbox-ms."
	if s.opts.Flavor == provider.Google {
		prefix = "ya29.sandbox-"
	}
	at := randomString(prefix, 32)
	s.access[at] = &accessToken{g: g, scopes: scopes, expires: s.now().Add(s.opts.AccessTTL)}
	resp := map[string]any{
		"access_token": at, "token_type": "Bearer",
		"expires_in": int(s.opts.AccessTTL / time.Second), "scope": strings.Join(scopes, " "),
	}
	if s.opts.Flavor == provider.Microsoft {
		resp["ext_expires_in"] = resp["expires_in"]
	}
	if g.offline && (first || s.opts.Flavor == provider.Microsoft) {
		rt := randomString("1//sandbox-", 40)
		if s.opts.Flavor == provider.Microsoft {
			rt = randomString("0.AAAA-sandbox-", 48)
		}
		g.current = rt
		s.refresh[rt] = g
		resp["refresh_token"] = rt
		if s.opts.Flavor == provider.Microsoft && s.opts.RefreshTTL > 0 {
			g.refreshExp = s.now().Add(s.opts.RefreshTTL) // sliding window
		}
	}
	if g.openid {
		resp["id_token"] = s.idToken(g)
	}
	s.save()
	return resp
}

func (s *Server) idToken(g *grant) string {
	now := s.now()
	claims := map[string]any{
		"iss": s.url, "aud": s.opts.ClientID, "sub": s256("sub:" + strings.ToLower(g.email))[:22],
		"email": g.email, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
	if s.opts.Flavor == provider.Microsoft {
		claims["iss"] = s.url + "/" + tenantID + "/v2.0"
		claims["preferred_username"] = g.email
		claims["tid"] = tenantID
	} else {
		claims["email_verified"] = true
	}
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	head := enc(map[string]string{"alg": "HS256", "typ": "JWT"})
	body := enc(claims)
	mac := hmac.New(sha256.New, []byte("oauthsrv:"+s.opts.ClientID))
	mac.Write([]byte(head + "." + body))
	return head + "." + body + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (s *Server) refreshGrant(w http.ResponseWriter, token, scope string, scopeGiven bool) {
	google := s.opts.Flavor == provider.Google
	if !google && !scopeGiven {
		s.writeError(w, msErrors["900144"])
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failCode != "" {
		if google {
			s.writeError(w, oauthError{400, s.failCode, 0, "Token has been expired or revoked."})
		} else if e, ok := msErrors[s.failCode]; ok {
			s.writeError(w, e)
		} else {
			n, _ := strconv.Atoi(s.failCode)
			s.writeError(w, oauthError{400, "invalid_grant", n, "Injected error."})
		}
		return
	}
	g := s.refresh[token]
	var e *oauthError
	switch {
	case g == nil && google:
		e = &googleDead
	case g == nil:
		e = &oauthError{400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."}
	case g.revoked != "" && google:
		e = &googleDead
	case g.revoked == "reuse":
		e = ptr(msReused)
	case g.revoked != "":
		e = ptr(msErrors["50173"])
	case g.current != token:
		// A rotated-out refresh token came back: like oidc-provider and
		// real servers guarding against replay, revoke the whole grant.
		g.revoked = "reuse"
		s.save()
		e = ptr(msReused)
		if google {
			e = &googleDead
		}
	case !g.refreshExp.IsZero() && !s.now().Before(g.refreshExp) && google:
		e = &googleDead
	case !g.refreshExp.IsZero() && !s.now().Before(g.refreshExp):
		e = ptr(msErrors["700082"])
	}
	if e == nil && scope != "" {
		for _, sc := range strings.Fields(scope) {
			if !hasScope(strings.Join(g.scopes, " "), sc) {
				if google {
					e = &oauthError{400, "invalid_scope", 0, "Some requested scopes were invalid. {invalid=[" + sc + "]}"}
				} else {
					e = ptr(msErrors["65001"])
				}
				break
			}
		}
	}
	if e != nil {
		s.writeError(w, *e)
		return
	}
	s.refreshN++
	s.lastScope = scope
	writeJSON(w, s.issue(g, false, scope))
}

func ptr(e oauthError) *oauthError { return &e }

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v)
}

// handleRevoke is Google's revocation endpoint: revoking either token of a
// grant revokes the grant.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	tok := r.Form.Get("token")
	s.mu.Lock()
	var g *grant
	if x := s.refresh[tok]; x != nil {
		g = x
	} else if at := s.access[tok]; at != nil {
		g = at.g
	}
	if g == nil || g.revoked != "" {
		s.mu.Unlock()
		s.writeError(w, oauthError{400, "invalid_token", 0, "Token expired or revoked"})
		return
	}
	g.revoked = "revoke"
	s.save()
	s.mu.Unlock()
	writeJSON(w, map[string]any{})
}

func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	sub, _, err := s.ValidateAccessToken(tok)
	if !ok || err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(401)
		fmt.Fprint(w, `{"error":"invalid_request","error_description":"Invalid Credentials"}`)
		return
	}
	writeJSON(w, map[string]any{"sub": s256("sub:" + strings.ToLower(sub))[:22], "email": sub, "email_verified": true})
}

// handleGoogleDevice refuses Gmail's scope, as Google's device flow does:
// a headless Google sign-in has to use the paste-back flow.
func (s *Server) handleGoogleDevice(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	s.writeError(w, oauthError{400, "invalid_scope", 0, "Invalid device flow scope: " + r.PostForm.Get("scope")})
}

func (s *Server) handleDeviceCode(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	if e, bad := s.tenantError(r.PathValue("tenant")); bad {
		s.writeError(w, e)
		return
	}
	if r.PostForm.Get("client_id") != s.opts.ClientID {
		s.writeError(w, oauthError{400, "unauthorized_client", 700016, "Application was not found in the directory."})
		return
	}
	scope := r.PostForm.Get("scope")
	if strings.TrimSpace(scope) == "" {
		s.writeError(w, msErrors["900144"])
		return
	}
	d := &deviceRequest{
		deviceCode: randomString("dc-", 24), userCode: strings.ToUpper(randomString("", 6))[:8],
		scope: scope, expires: s.now().Add(15 * time.Minute), status: "pending",
	}
	d.userCode = strings.NewReplacer("-", "X", "_", "Y").Replace(d.userCode)
	s.mu.Lock()
	s.devices[d.deviceCode] = d
	s.mu.Unlock()
	verify := s.url + "/devicelogin"
	writeJSON(w, map[string]any{
		"device_code": d.deviceCode, "user_code": d.userCode, "verification_uri": verify,
		"expires_in": 900, "interval": 1,
		"message": fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", verify, d.userCode),
	})
}

func (s *Server) deviceToken(w http.ResponseWriter, code string) {
	s.mu.Lock()
	d := s.devices[code]
	var e *oauthError
	switch {
	case s.opts.Flavor == provider.Google || d == nil:
		e = &oauthError{400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."}
	case !s.now().Before(d.expires):
		e = &oauthError{400, "expired_token", 70019, "Verification code expired."}
	case d.status == "pending":
		e = &oauthError{400, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling."}
	case d.status == "denied":
		e = &oauthError{400, "authorization_declined", 70000, "The user declined the sign-in."}
	case d.status == "done":
		e = &oauthError{400, "invalid_grant", 54005, "The device code was already redeemed."}
	}
	if e != nil {
		s.mu.Unlock()
		s.writeError(w, *e)
		return
	}
	d.status = "done"
	g := &grant{email: d.email, scopes: strings.Fields(d.scope),
		offline: hasScope(d.scope, "offline_access"), openid: hasScope(d.scope, "openid")}
	resp := s.addGrant(g)
	s.mu.Unlock()
	writeJSON(w, resp)
}
