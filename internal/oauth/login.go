package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

// Mode is how the user reaches the authorization page.
type Mode string

const (
	ModeBrowser   Mode = "browser"    // open the system browser; loopback listener
	ModeNoBrowser Mode = "no-browser" // print the URL; loopback listener
	ModeDevice    Mode = "device"     // device authorization grant (RFC 8628)
	ModePaste     Mode = "paste"      // print the URL; the user pastes back where the browser was sent
)

// DefaultLoginTimeout bounds how long a sign-in waits for the person.
const DefaultLoginTimeout = 5 * time.Minute

// LoginOptions describes one sign-in.
type LoginOptions struct {
	Account  string
	Config   provider.Config
	Mode     Mode
	Timeout  time.Duration // default DefaultLoginTimeout
	Expected string        // the account's From address: warn when someone else signs in
	Store    *secrets.Store
	// Stdout receives only what a script reads: the authorization URL
	// (no-browser, paste) or the device URL and code. Stderr gets the
	// explanations. Stdin is read in paste mode.
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	OpenBrowser    func(url string) error // default OpenBrowser
	HTTPClient     *http.Client
	Now            func() time.Time

	base         context.Context // Login's own context, without the wait's timeout
	finishCtx    context.Context
	finishCancel context.CancelFunc
}

// finishTimeout bounds redeeming the code and saving the tokens. It starts
// when the person has finished, apart from the wait's timeout: a sign-in
// completed at the last moment must not spend its code and then fail as
// "timed out".
const finishTimeout = 30 * time.Second

// finishing returns the context that redeeming the code and saving the
// tokens share, made on first use; Ctrl-C still ends it.
func (o *LoginOptions) finishing() context.Context {
	if o.finishCtx == nil {
		base := o.base
		if base == nil {
			base = context.Background()
		}
		o.finishCtx, o.finishCancel = context.WithTimeout(base, finishTimeout)
	}
	return o.finishCtx
}

// LoginResult says who signed in and what was granted.
type LoginResult struct {
	Identity        string
	Scopes          []string
	Expiry          time.Time
	HasRefreshToken bool
	// Mismatch is set when Identity is known and is not Expected.
	Mismatch bool
}

// ErrTimeout: nobody finished the sign-in in time.
var ErrTimeout = errors.New("sign-in timed out")

// Login runs a sign-in and stores the tokens of opts.Account.
func Login(ctx context.Context, opts LoginOptions) (*LoginResult, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultLoginTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OpenBrowser == nil {
		opts.OpenBrowser = OpenBrowser
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, &ConfigError{Why: "the credential settings cannot be used to sign in: " + err.Error(), Err: err}
	}
	opts.base = ctx
	defer func() {
		if opts.finishCancel != nil {
			opts.finishCancel()
		}
	}()
	ctx, cancel := context.WithTimeoutCause(ctx, opts.Timeout, ErrTimeout)
	defer cancel()
	var tr *tokenResponse
	var err error
	switch opts.Mode {
	case ModeBrowser, ModeNoBrowser, "":
		tr, err = loginLoopback(ctx, &opts)
	case ModePaste:
		tr, err = loginPaste(ctx, &opts)
	case ModeDevice:
		tr, err = loginDevice(ctx, &opts)
	default:
		return nil, fmt.Errorf("unknown sign-in mode %q", opts.Mode)
	}
	if err != nil {
		return nil, explainWait(ctx, opts.Timeout, err)
	}
	return finishLogin(opts.finishing(), &opts, tr)
}

// explainWait turns the context's end into words: the timeout, or Ctrl-C.
func explainWait(ctx context.Context, timeout time.Duration, err error) error {
	if ctx.Err() == nil || !errors.Is(err, ctx.Err()) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(context.Cause(ctx), ErrTimeout) {
		return fmt.Errorf("%w after %s: nobody finished the sign-in in the browser; run the login again (--timeout gives more time)", ErrTimeout, timeout)
	}
	return fmt.Errorf("sign-in cancelled (interrupted): %w", context.Canceled)
}

func finishLogin(ctx context.Context, opts *LoginOptions, tr *tokenResponse) (*LoginResult, error) {
	now := opts.Now()
	t := newToken(opts.Config, tr, now)
	if t.Identity == "" && opts.Config.UserinfoURL != "" {
		if id, err := userinfoEmail(ctx, opts.HTTPClient, opts.Config.UserinfoURL, t.AccessToken); err == nil {
			t.Identity = id
		} else {
			fmt.Fprintf(opts.Stderr, "note: could not learn who signed in: %v\n", err)
		}
	}
	unlock, err := opts.Store.Lock(ctx, SecretName(opts.Account))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := SaveToken(opts.Store, opts.Account, t); err != nil {
		return nil, fmt.Errorf("saving the sign-in of %s: %w", opts.Account, err)
	}
	res := &LoginResult{Identity: t.Identity, Scopes: t.Scopes, Expiry: t.Expiry, HasRefreshToken: t.RefreshToken != ""}
	res.Mismatch = t.Identity != "" && opts.Expected != "" && !strings.EqualFold(t.Identity, opts.Expected)
	return res, nil
}

// authCodeURL builds the authorization URL with PKCE (S256) and state.
func authCodeURL(cfg provider.Config, redirect, state, verifier, loginHint string) string {
	oc := oauth2.Config{
		ClientID: cfg.ClientID, RedirectURL: redirect, Scopes: strings.Fields(cfg.AuthScope),
		Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthEndpoint, TokenURL: cfg.TokenEndpoint},
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier)}
	if cfg.Provider == provider.Google {
		// Without these Google sends no refresh token on a repeat sign-in.
		opts = append(opts, oauth2.AccessTypeOffline, oauth2.SetAuthURLParam("prompt", "consent"))
	}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return oc.AuthCodeURL(state, opts...)
}

func randomState() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// exchange redeems an authorization code, under the finishing deadline
// rather than the wait's.
func exchange(opts *LoginOptions, code, redirect, verifier string) (*tokenResponse, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
	tr, err := tokenRequest(opts.finishing(), opts.HTTPClient, opts.Config, form)
	if err != nil {
		return nil, fmt.Errorf("redeeming the sign-in code: %w", classifyLogin(err))
	}
	return tr, nil
}

// classifyLogin keeps configuration mistakes typed during a sign-in; a
// refused code is just a failed sign-in, not a reason to sign in again.
func classifyLogin(err error) error {
	var ce *ConfigError
	if c := classify("", err); errors.As(c, &ce) {
		return c
	}
	return err
}

func loginLoopback(ctx context.Context, opts *LoginOptions) (*tokenResponse, error) {
	state, verifier := randomState(), oauth2.GenerateVerifier()
	// The listener notes refused requests on stderr while this goroutine
	// may be writing there too.
	stderr := &syncWriter{w: opts.Stderr}
	lb, err := newLoopback(opts.Config.RedirectURI, state, func(msg string) { fmt.Fprintf(stderr, "bluemoon: %s\n", msg) })
	if err != nil {
		return nil, err
	}
	defer lb.close()
	authURL := authCodeURL(opts.Config, lb.redirect, state, verifier, opts.Expected)
	if opts.Mode == ModeNoBrowser {
		fmt.Fprintln(opts.Stdout, authURL)
		fmt.Fprintf(stderr, "Open the address above in a browser on this computer and sign in as %s; waiting up to %s (Ctrl-C to stop).\n", orAnyone(opts.Expected), opts.Timeout)
	} else if err := opts.OpenBrowser(authURL); err != nil {
		fmt.Fprintf(stderr, "%v\nOpen this address in a browser on this computer:\n%s\n", err, authURL)
	} else {
		fmt.Fprintf(stderr, "Your browser was opened to sign in as %s; waiting up to %s (Ctrl-C to stop).\nIf it did not open, visit:\n%s\n", orAnyone(opts.Expected), opts.Timeout, authURL)
	}
	var cb callback
	select {
	case cb = <-lb.results:
	case <-ctx.Done():
		if n := lb.refusedCount(); n > 0 {
			fmt.Fprintf(stderr, "bluemoon: while waiting, %d request(s) with a wrong 'state' were refused (not from this sign-in's browser)\n", n)
		}
		return nil, ctx.Err()
	}
	if cb.err != nil {
		cb.reply <- landingFor(cb.err)
		return nil, cb.err
	}
	tr, err := exchange(opts, cb.code, lb.redirect, verifier)
	if err != nil {
		cb.reply <- landingFor(err)
		return nil, err
	}
	cb.reply <- landing{ok: true, identity: identityFromIDToken(tr.IDToken)}
	return tr, nil
}

func orAnyone(s string) string {
	if s == "" {
		return "the account's user"
	}
	return s
}
