package oauth

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// loginPaste serves machines without a browser: the user opens the URL
// anywhere, signs in, and pastes back the address the browser was sent to
// (a page that fails to load at 127.0.0.1 — the address is what counts).
// It is the headless way for Google, whose device flow refuses Gmail.
func loginPaste(ctx context.Context, opts *LoginOptions) (*tokenResponse, error) {
	if opts.Stdin == nil {
		return nil, errors.New("--paste needs standard input to read the address from")
	}
	state, verifier := randomState(), oauth2.GenerateVerifier()
	redirect := opts.Config.RedirectURI
	authURL := authCodeURL(opts.Config, redirect, state, verifier, opts.Expected)
	fmt.Fprintln(opts.Stdout, authURL)
	fmt.Fprintf(opts.Stderr, "Open the address above in a browser on any computer and sign in as %s.\n"+
		"The browser then goes to %s... and shows an error page: that is expected.\n"+
		"Copy the whole address from the browser's address bar and paste it here, then press Enter:\n", orAnyone(opts.Expected), redirect)
	line, err := readLine(ctx, opts.Stdin)
	if err != nil {
		return nil, err
	}
	q, err := pastedQuery(line)
	if err != nil {
		return nil, err
	}
	code, err := parseCallback(q, state)
	if err != nil {
		return nil, err
	}
	return exchange(opts, code, redirect, verifier)
}

// pastedQuery accepts the full redirected address, or just its query.
func pastedQuery(line string) (url.Values, error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil, errors.New("nothing was pasted: paste the address the browser ended on (http://127.0.0.1...?code=...)")
	}
	if i := strings.IndexByte(line, '?'); i >= 0 {
		line = line[i+1:]
	}
	q, err := url.ParseQuery(strings.SplitN(line, "#", 2)[0])
	if err != nil || (!q.Has("code") && !q.Has("error")) {
		return nil, errors.New("the pasted text is not the address the browser was sent to after sign-in (it should contain ?code=... or ?error=...)")
	}
	return q, nil
}

func readLine(ctx context.Context, r io.Reader) (string, error) {
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		s, err := bufio.NewReader(r).ReadString('\n')
		if err != nil && s != "" {
			err = nil
		}
		ch <- res{s, err}
	}()
	select {
	case x := <-ch:
		if x.err != nil {
			return "", fmt.Errorf("reading the pasted address: %w", x.err)
		}
		return x.s, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// loginDevice runs the device authorization grant: the user opens a short
// URL on any device and types the code shown here.
func loginDevice(ctx context.Context, opts *LoginOptions) (*tokenResponse, error) {
	cfg := opts.Config
	if cfg.DeviceEndpoint == "" {
		return nil, errors.New("this credential has no device_endpoint, so --device cannot be used; use --paste")
	}
	oc := oauth2.Config{ClientID: cfg.ClientID, Scopes: strings.Fields(cfg.AuthScope),
		Endpoint: oauth2.Endpoint{DeviceAuthURL: cfg.DeviceEndpoint, TokenURL: cfg.TokenEndpoint}}
	dctx := ctx
	if opts.HTTPClient != nil {
		dctx = context.WithValue(ctx, oauth2.HTTPClient, opts.HTTPClient)
	}
	da, err := oc.DeviceAuth(dctx)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			pe := newProviderError("device endpoint", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, nil)
			if cfg.Provider == provider.Google && pe.Code == "invalid_scope" {
				return nil, errors.New("Google's device sign-in does not allow the Gmail scope; use --paste instead")
			}
			return nil, classifyLogin(pe)
		}
		return nil, fmt.Errorf("device endpoint: %w", stripURLError(err))
	}
	fmt.Fprintln(opts.Stdout, da.VerificationURI)
	fmt.Fprintln(opts.Stdout, da.UserCode)
	fmt.Fprintf(opts.Stderr, "On any device, open %s and enter the code %s, then sign in as %s. Waiting up to %s (Ctrl-C to stop).\n",
		da.VerificationURI, da.UserCode, orAnyone(opts.Expected), opts.Timeout)
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(interval):
		}
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {da.DeviceCode}}
		tr, err := tokenRequest(ctx, opts.HTTPClient, cfg, form)
		if err == nil {
			return tr, nil
		}
		var pe *ProviderError
		if !errors.As(err, &pe) {
			return nil, err
		}
		switch pe.Code {
		case "authorization_pending":
		case "slow_down":
			interval += 5 * time.Second
		case "authorization_declined", "access_denied":
			return nil, &AccessDeniedError{Code: pe.Code, Description: pe.Description}
		case "expired_token":
			return nil, errors.New("the device code expired before the sign-in was finished; run the login again")
		default:
			return nil, classifyLogin(err)
		}
	}
}
