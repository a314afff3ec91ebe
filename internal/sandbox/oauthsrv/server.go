// Package oauthsrv runs in-process authorization servers on 127.0.0.1 that
// behave like Google's and Microsoft's where a mail client meets them:
// consent page, PKCE, state, code exchange, refresh with Microsoft's
// rotation (and its punishment of a re-used refresh token) or Google's
// non-rotation, expiry, revocation, the providers' error JSON, tenant paths,
// ID tokens, userinfo and Microsoft's device-code flow.
//
// Tests and the demo drive bluemoon against it; the SMTP stand-in checks
// bearer tokens with ValidateAccessToken. Everything is in memory.
package oauthsrv

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/loopback"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// Options configures a Server. Zero values give a working Google or
// Microsoft stand-in with a fixed client.
type Options struct {
	Flavor provider.Kind // provider.Google or provider.Microsoft (default)
	// ClientID is the only client the server knows (default "sandbox-client").
	ClientID string
	// ClientSecret: Google requires it at the token endpoint (default
	// "sandbox-secret" for Google). For Microsoft an empty secret makes the
	// app a public client (a secret sent gets AADSTS700025); a non-empty one
	// a confidential client (a missing secret gets AADSTS7000218).
	ClientSecret string
	// Email is who signs in when the consent form is posted without one or
	// consent is automatic (default "user@example.com").
	Email string
	// AutoApprove skips the consent page: the authorize endpoint redirects
	// at once with a code, as for a user already signed in and consented.
	AutoApprove bool
	AccessTTL   time.Duration // access-token lifetime (default 1 h)
	// RefreshTTL: Microsoft slides it on every use (90 days in real life),
	// Google counts it from sign-in (7 days for apps left in Testing).
	// Zero: refresh tokens do not expire.
	RefreshTTL time.Duration
	// HomeTenant makes a Microsoft app single-tenant: requests through
	// common / organizations / consumers get AADSTS50194.
	HomeTenant string
	// RedirectURI is the registered redirect (default http://127.0.0.1);
	// like both providers, the port of a loopback redirect is ignored.
	RedirectURI string
	// Addr is where to listen (default 127.0.0.1:0, a free port).
	Addr string
	// StateFile, when set, keeps the grants and tokens the server issued
	// (0600, rewritten on every change, read back by New), so a client
	// signed in before a restart still refreshes afterwards, as it would
	// with a real provider. Without it everything is in memory.
	StateFile string
}

// Server is one running stand-in.
type Server struct {
	opts     Options
	ln       net.Listener
	srv      *http.Server
	url      string
	mu       sync.Mutex
	offset   time.Duration // Advance()
	grants   []*grant
	pending  map[string]*authRequest // consent pages shown, by id
	codes    map[string]*authCode
	access   map[string]*accessToken
	refresh  map[string]*grant // every refresh token ever issued → its grant
	devices  map[string]*deviceRequest
	refreshN int
	failCode string // FailRefresh
	// lastScope is the scope parameter of the last successful refresh.
	lastScope string
}

type grant struct {
	email      string
	scopes     []string
	current    string // the refresh token that is valid now
	refreshExp time.Time
	revoked    string // why: "password", "reuse", "revoke"; "" = active
	offline    bool
	openid     bool
	nonce      string
}

type authRequest struct {
	id, clientID, redirectURI, state, challenge, scope, loginHint, nonce string
	offline                                                              bool
}

type authCode struct {
	req     *authRequest
	email   string
	expires time.Time
	used    bool
}

type accessToken struct {
	g       *grant
	scopes  []string
	expires time.Time
}

type deviceRequest struct {
	deviceCode, userCode, scope string
	expires                     time.Time
	status                      string // pending | approved | denied | done
	email                       string
}

// New starts a stand-in on 127.0.0.1 at a free port.
func New(opts Options) (*Server, error) {
	if opts.Flavor == "" {
		opts.Flavor = provider.Microsoft
	}
	if opts.Flavor != provider.Google && opts.Flavor != provider.Microsoft {
		return nil, fmt.Errorf("oauthsrv: flavor %q: use google or microsoft", opts.Flavor)
	}
	if opts.ClientID == "" {
		opts.ClientID = "sandbox-client"
	}
	if opts.Flavor == provider.Google && opts.ClientSecret == "" {
		opts.ClientSecret = "sandbox-secret"
	}
	if opts.Email == "" {
		opts.Email = "user@example.com"
	}
	if opts.AccessTTL == 0 {
		opts.AccessTTL = time.Hour
	}
	if opts.RedirectURI == "" {
		opts.RedirectURI = provider.DefaultRedirectURI
	}
	ln, err := loopback.Listen(opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("oauthsrv: %w", err)
	}
	s := &Server{
		opts: opts, ln: ln, url: "http://" + ln.Addr().String(),
		pending: map[string]*authRequest{}, codes: map[string]*authCode{},
		access: map[string]*accessToken{}, refresh: map[string]*grant{},
		devices: map[string]*deviceRequest{},
	}
	if err := s.load(); err != nil {
		ln.Close()
		return nil, fmt.Errorf("oauthsrv: %s: %w", opts.StateFile, err)
	}
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// URL is the server's base address, http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.url }

// Port is the listening port.
func (s *Server) Port() int { return loopback.Port(s.ln) }

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Flavor says which provider the server plays.
func (s *Server) Flavor() provider.Kind { return s.opts.Flavor }

// ClientID returns the registered client ID.
func (s *Server) ClientID() string { return s.opts.ClientID }

// Config returns a provider.Config for this server: the provider's default
// scopes with endpoints pointing here. tenant is used for Microsoft
// ("" = organizations).
func (s *Server) Config(tenant string) provider.Config {
	if s.opts.Flavor == provider.Google {
		return provider.Config{
			Provider: provider.Google, ClientID: s.opts.ClientID, ClientSecret: s.opts.ClientSecret,
			AuthEndpoint: s.url + "/o/oauth2/v2/auth", AuthScope: provider.GoogleAuthScope,
			TokenEndpoint: s.url + "/token", TokenScope: provider.GoogleTokenScope,
			RedirectURI: s.opts.RedirectURI, RevokeEndpoint: s.url + "/revoke",
			UserinfoURL: s.url + "/v1/userinfo", DeviceEndpoint: s.url + "/device/code",
		}
	}
	if tenant == "" {
		tenant = provider.DefaultTenant
	}
	base := s.url + "/" + tenant + "/oauth2/v2.0/"
	return provider.Config{
		Provider: provider.Microsoft, Tenant: tenant, ClientID: s.opts.ClientID, ClientSecret: s.opts.ClientSecret,
		AuthEndpoint: base + "authorize", AuthScope: provider.MicrosoftAuthScope,
		TokenEndpoint: base + "token", TokenScope: provider.MicrosoftTokenScope,
		RedirectURI: s.opts.RedirectURI, DeviceEndpoint: base + "devicecode",
	}
}

func (s *Server) now() time.Time { return time.Now().Add(s.offset) }

// ErrInvalidToken is wrapped by ValidateAccessToken's errors.
var ErrInvalidToken = errors.New("invalid access token")

// ValidateAccessToken checks a bearer token as a resource server would
// (the SMTP stand-in, say): it returns the signed-in user and the token's
// scopes, or an error wrapping ErrInvalidToken saying why.
func (s *Server) ValidateAccessToken(token string) (subject string, scopes []string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.access[token]
	switch {
	case !ok:
		return "", nil, fmt.Errorf("%w: unknown", ErrInvalidToken)
	case at.g.revoked != "":
		return "", nil, fmt.Errorf("%w: revoked", ErrInvalidToken)
	case !s.now().Before(at.expires):
		return "", nil, fmt.Errorf("%w: expired", ErrInvalidToken)
	}
	return at.g.email, append([]string(nil), at.scopes...), nil
}

// RevokeUser revokes every grant of email, as a password change or an
// admin's "revoke sessions" does. It returns how many grants it revoked.
func (s *Server) RevokeUser(email string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	live := s.liveGrants(email)
	for _, g := range live {
		g.revoked = "password"
	}
	s.save()
	return len(live)
}

// ExpireAccessTokens makes every access token issued so far expired.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, at := range s.access {
		at.expires = s.now().Add(-time.Second)
	}
}

// ExpireRefreshTokens makes every current refresh token expired (90 days
// idle at Microsoft, the 7-day limit of Google apps in Testing).
func (s *Server) ExpireRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.grants {
		g.refreshExp = s.now().Add(-time.Second)
	}
}

// SetAccessTTL changes the lifetime of access tokens issued from now on.
func (s *Server) SetAccessTTL(d time.Duration) { s.mu.Lock(); s.opts.AccessTTL = d; s.mu.Unlock() }

// SetRefreshTTL changes the lifetime of refresh tokens issued from now on.
func (s *Server) SetRefreshTTL(d time.Duration) { s.mu.Lock(); s.opts.RefreshTTL = d; s.mu.Unlock() }

// SetAutoApprove turns the consent page off (true) or on.
func (s *Server) SetAutoApprove(v bool) { s.mu.Lock(); s.opts.AutoApprove = v; s.mu.Unlock() }

// SetEmail changes who signs in by default.
func (s *Server) SetEmail(email string) { s.mu.Lock(); s.opts.Email = email; s.mu.Unlock() }

// Advance moves the server's clock forward (tokens expire without sleeping).
func (s *Server) Advance(d time.Duration) { s.mu.Lock(); s.offset += d; s.mu.Unlock() }

// RefreshCount is the number of successful refresh-token grants so far.
func (s *Server) RefreshCount() int { s.mu.Lock(); defer s.mu.Unlock(); return s.refreshN }

// LastRefreshScope is the scope parameter the last successful refresh
// carried ("" if none).
func (s *Server) LastRefreshScope() string { s.mu.Lock(); defer s.mu.Unlock(); return s.lastScope }

// ActiveGrants counts the grants of email that are not revoked.
func (s *Server) ActiveGrants(email string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.liveGrants(email))
}

// liveGrants are the grants of email that are not revoked. s.mu must be held.
func (s *Server) liveGrants(email string) []*grant {
	var out []*grant
	for _, g := range s.grants {
		if strings.EqualFold(g.email, email) && g.revoked == "" {
			out = append(out, g)
		}
	}
	return out
}

// FailRefresh makes every refresh fail with the given Microsoft AADSTS
// code (e.g. "50076") or, for Google, the given OAuth error code (e.g.
// "invalid_grant"), until called with "". Lets tests see each error the
// way a real server words it.
func (s *Server) FailRefresh(code string) { s.mu.Lock(); s.failCode = code; s.mu.Unlock() }

func randomString(prefix string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	if s.opts.Flavor == provider.Google {
		mux.HandleFunc("GET /o/oauth2/v2/auth", s.handleAuthorize)
		mux.HandleFunc("GET /o/oauth2/auth", s.handleAuthorize)
		mux.HandleFunc("POST /token", s.handleToken)
		mux.HandleFunc("POST /revoke", s.handleRevoke)
		mux.HandleFunc("GET /v1/userinfo", s.handleUserinfo)
		mux.HandleFunc("POST /device/code", s.handleGoogleDevice)
		mux.HandleFunc("GET /.well-known/openid-configuration", s.handleDiscovery)
	} else {
		mux.HandleFunc("GET /{tenant}/oauth2/v2.0/authorize", s.handleAuthorize)
		mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", s.handleToken)
		mux.HandleFunc("POST /{tenant}/oauth2/v2.0/devicecode", s.handleDeviceCode)
		mux.HandleFunc("GET /devicelogin", s.handleDeviceLogin)
		mux.HandleFunc("POST /devicelogin", s.handleDeviceLogin)
		mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", s.handleDiscovery)
	}
	mux.HandleFunc("POST /consent", s.handleConsent)
	return mux
}
