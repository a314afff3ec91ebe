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

// waitPaste serves machines without a browser: the user opens the URL
// anywhere, signs in, and pastes back the address the browser was sent to
// (a page that fails to load at 127.0.0.1 — the address is what counts).
// It is the headless way for Google, whose device flow refuses Gmail.
func (f *Flow) waitPaste(ctx context.Context, fin *finisher) (*tokenResponse, error) {
	var m pasteMsg
	select {
	case m = <-f.pasted:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if m.err != nil {
		return nil, fmt.Errorf("reading the pasted address: %w", m.err)
	}
	q, err := pastedQuery(m.text)
	if err != nil {
		return nil, err
	}
	code, err := parseCallback(q, f.state)
	if err != nil {
		return nil, err
	}
	return exchange(fin.get(), &f.opts, code, f.redirect, f.verifier)
}

// pastedQuery accepts the full redirected address, or just its query.
func pastedQuery(line string) (url.Values, error) {
	line = strings.TrimSpace(line)
	if line == "" {
		return nil, errors.New("nothing was pasted: paste the whole address the browser ended on (http://127.0.0.1/?state… with a code or an error in it)")
	}
	if i := strings.IndexByte(line, '?'); i >= 0 {
		line = line[i+1:]
	}
	q, err := url.ParseQuery(strings.SplitN(line, "#", 2)[0])
	if err != nil || (!q.Has("code") && !q.Has("error")) {
		return nil, errors.New("the pasted text is not the address the browser was sent to after sign-in (its query has a code or an error parameter beside the state)")
	}
	return q, nil
}

// readLine reads one line (the last one may lack its line break).
func readLine(r io.Reader) (string, error) {
	s, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && s != "" {
		err = nil
	}
	return s, err
}

// beginDevice starts the device authorization grant: the user opens a
// short URL on any device and types the code shown here.
func (f *Flow) beginDevice(ctx context.Context) error {
	cfg := f.opts.Config
	if cfg.DeviceEndpoint == "" {
		return errors.New("this credential has no device_endpoint, so --device cannot be used; use --paste")
	}
	f.oc = oauth2.Config{ClientID: cfg.ClientID, Scopes: strings.Fields(cfg.AuthScope),
		Endpoint: oauth2.Endpoint{DeviceAuthURL: cfg.DeviceEndpoint, TokenURL: cfg.TokenEndpoint}}
	dctx := ctx
	if f.opts.HTTPClient != nil {
		dctx = context.WithValue(ctx, oauth2.HTTPClient, f.opts.HTTPClient)
	}
	da, err := f.oc.DeviceAuth(dctx)
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			pe := newProviderError("device endpoint", re.Response.StatusCode, re.ErrorCode, re.ErrorDescription, nil)
			if cfg.Provider == provider.Google && pe.Code == "invalid_scope" {
				return errors.New("Google's device sign-in does not allow the Gmail scope; use --paste instead")
			}
			return classifyLogin(pe)
		}
		return fmt.Errorf("device endpoint: %w", stripURLError(err))
	}
	f.da = da
	f.prompt.URL, f.prompt.UserCode = da.VerificationURI, da.UserCode
	return nil
}

// waitDevice polls the token endpoint until the person has approved the
// device sign-in on the other device, or declined it.
func (f *Flow) waitDevice(ctx context.Context) (*tokenResponse, error) {
	interval := time.Duration(f.da.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second
	}
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(interval):
		}
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}, "device_code": {f.da.DeviceCode}}
		tr, err := tokenRequest(ctx, f.opts.HTTPClient, f.opts.Config, form)
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
