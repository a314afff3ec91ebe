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
	// explanations. Stdin is read in paste mode. Only Login uses them;
	// a Flow leaves showing its Prompt to the caller.
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	OpenBrowser    func(url string) error // default OpenBrowser
	// OnRefused is told, from the listener's goroutine, of each request to
	// the loopback redirect that was refused because its state was wrong:
	// it did not come from this sign-in's browser (a stray or forged
	// link). The sign-in goes on waiting. Login writes these on Stderr.
	OnRefused  func(msg string)
	HTTPClient *http.Client
	Now        func() time.Time
}

// finishTimeout bounds redeeming the code and saving the tokens. It starts
// when the person has finished, apart from the wait's timeout: a sign-in
// completed at the last moment must not spend its code and then fail as
// "timed out".
const finishTimeout = 30 * time.Second

// finisher makes, on first use, the context that redeeming the code and
// saving the tokens share: the caller's context (so Ctrl-C still ends it)
// without the wait's deadline.
type finisher struct {
	base   context.Context
	ctx    context.Context
	cancel context.CancelFunc
}

func (f *finisher) get() context.Context {
	if f.ctx == nil {
		f.ctx, f.cancel = context.WithTimeout(f.base, finishTimeout)
	}
	return f.ctx
}

func (f *finisher) stop() {
	if f.cancel != nil {
		f.cancel()
	}
}

// LoginResult says who signed in and what was granted.
type LoginResult struct {
	Identity        string
	Scopes          []string
	Expiry          time.Time
	HasRefreshToken bool
	// Mismatch is set when Identity is known and is not Expected.
	Mismatch bool
	// Notes are things worth telling the person that did not stop the
	// sign-in (who signed in could not be learnt, say).
	Notes []string
}

var (
	// ErrTimeout: nobody finished the sign-in in time.
	ErrTimeout = errors.New("sign-in timed out")
	// ErrCancelled: the sign-in was stopped before it finished (Ctrl-C,
	// Flow.Close, a cancelled context).
	ErrCancelled = errors.New("sign-in cancelled")
)

// Login runs a whole sign-in, showing its Prompt on opts.Stdout and
// opts.Stderr (reading the pasted address from opts.Stdin in paste mode),
// and stores the tokens of opts.Account.
func Login(ctx context.Context, opts LoginOptions) (*LoginResult, error) {
	if opts.Mode == ModePaste && opts.Stdin == nil {
		if err := opts.Config.Validate(); err == nil {
			return nil, errors.New("--paste needs standard input to read the address from")
		}
	}
	// The listener notes refused requests on stderr while this goroutine
	// may be writing there too.
	stderr := &syncWriter{w: orDiscard(opts.Stderr)}
	if opts.OnRefused == nil {
		opts.OnRefused = func(msg string) { fmt.Fprintf(stderr, "bluemoon: %s\n", msg) }
	}
	f, err := Begin(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	f.Prompt().Write(orDiscard(opts.Stdout), stderr)
	if f.Prompt().Mode == ModePaste {
		go func() {
			line, err := readLine(opts.Stdin)
			f.paste(line, err)
		}()
	}
	res, err := f.Wait(ctx)
	if res != nil {
		for _, n := range res.Notes {
			fmt.Fprintf(stderr, "note: %s\n", n)
		}
	}
	return res, err
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// explainWait turns the context's end into words: the timeout, or Ctrl-C.
func explainWait(ctx context.Context, timeout time.Duration, err error) error {
	if ctx.Err() == nil || !errors.Is(err, ctx.Err()) && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(context.Cause(ctx), ErrTimeout) {
		return fmt.Errorf("%w after %s: nobody finished the sign-in in the browser; run the login again (--timeout gives more time)", ErrTimeout, timeout)
	}
	return fmt.Errorf("%w (interrupted): %w", ErrCancelled, context.Canceled)
}

func finishLogin(ctx context.Context, opts *LoginOptions, tr *tokenResponse) (*LoginResult, error) {
	now := opts.Now()
	t := newToken(opts.Config, tr, now)
	var notes []string
	if t.Identity == "" && opts.Config.UserinfoURL != "" {
		if id, err := userinfoEmail(ctx, opts.HTTPClient, opts.Config.UserinfoURL, t.AccessToken); err == nil {
			t.Identity = id
		} else {
			notes = append(notes, fmt.Sprintf("could not learn who signed in: %v", err))
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
	res := &LoginResult{Identity: t.Identity, Scopes: t.Scopes, Expiry: t.Expiry, HasRefreshToken: t.RefreshToken != "", Notes: notes}
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
func exchange(ctx context.Context, opts *LoginOptions, code, redirect, verifier string) (*tokenResponse, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}}
	tr, err := tokenRequest(ctx, opts.HTTPClient, opts.Config, form)
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

func orAnyone(s string) string {
	if s == "" {
		return "the account's user"
	}
	return s
}
