package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Flow is one sign-in under way, split where a person acts: Begin does
// everything up to the point where someone must open a page (listener up,
// URL built, device code obtained) and returns at once; Wait gets the
// answer, redeems it and stores the tokens. Between the two, a face shows
// the Prompt in its own way: the CLI prints it, the web console links to
// it. Login is Begin, Prompt.Write and Wait in one call.
type Flow struct {
	opts     LoginOptions
	prompt   Prompt
	deadline time.Time

	state, verifier, redirect string
	lb                        *loopback // browser, no-browser

	oc oauth2.Config              // device
	da *oauth2.DeviceAuthResponse // device

	pasted chan pasteMsg // paste

	closeOnce sync.Once
}

type pasteMsg struct {
	text string
	err  error
}

// Prompt is what a person must do to finish a sign-in. It holds no secret:
// the state and PKCE verifier stay in the Flow.
type Prompt struct {
	Mode Mode
	// URL is the authorization URL (browser, no-browser, paste) or the
	// device verification address (device).
	URL      string
	UserCode string // device: the code the person types at URL
	// Redirect is where the browser is sent after the sign-in (paste: the
	// page that fails to load, whose address the person copies back).
	Redirect string
	Expected string        // who should sign in ("" when anyone may)
	Timeout  time.Duration // how long Wait waits for the person
	// BrowserErr is set in browser mode when the browser could not be
	// opened: the person must open URL by hand.
	BrowserErr error
}

// Write shows the prompt as the CLI does: what a script reads (the URL, or
// the device address and code) alone on stdout, the explanation on stderr.
func (p Prompt) Write(stdout, stderr io.Writer) {
	who := orAnyone(p.Expected)
	switch p.Mode {
	case ModeNoBrowser:
		fmt.Fprintln(stdout, p.URL)
		fmt.Fprintf(stderr, "Open the address above in a browser on this computer and sign in as %s; waiting up to %s (Ctrl-C to stop).\n", who, p.Timeout)
	case ModePaste:
		fmt.Fprintln(stdout, p.URL)
		fmt.Fprintf(stderr, "Open the address above in a browser on any computer and sign in as %s.\n"+
			"The browser then goes to %s... and shows an error page: that is expected.\n"+
			"Copy the whole address from the browser's address bar and paste it here, then press Enter:\n", who, p.Redirect)
	case ModeDevice:
		fmt.Fprintln(stdout, p.URL)
		fmt.Fprintln(stdout, p.UserCode)
		fmt.Fprintf(stderr, "On any device, open %s and enter the code %s, then sign in as %s. Waiting up to %s (Ctrl-C to stop).\n",
			p.URL, p.UserCode, who, p.Timeout)
	default:
		if p.BrowserErr != nil {
			fmt.Fprintf(stderr, "%v\nOpen this address in a browser on this computer:\n%s\n", p.BrowserErr, p.URL)
		} else {
			fmt.Fprintf(stderr, "Your browser was opened to sign in as %s; waiting up to %s (Ctrl-C to stop).\nIf it did not open, visit:\n%s\n", who, p.Timeout, p.URL)
		}
	}
}

// Begin starts a sign-in and returns once a person can act: in browser
// mode the browser has been asked to open (Prompt().BrowserErr says if it
// could not). The Flow's Timeout counts from here. Close it (Wait does)
// to free the loopback listener.
func Begin(ctx context.Context, opts LoginOptions) (*Flow, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultLoginTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OpenBrowser == nil {
		opts.OpenBrowser = OpenBrowser
	}
	if opts.Mode == "" {
		opts.Mode = ModeBrowser
	}
	if err := opts.Config.Validate(); err != nil {
		return nil, &ConfigError{Why: "the credential settings cannot be used to sign in: " + err.Error(), Err: err}
	}
	f := &Flow{opts: opts, deadline: time.Now().Add(opts.Timeout)}
	f.prompt = Prompt{Mode: opts.Mode, Expected: opts.Expected, Timeout: opts.Timeout}
	switch opts.Mode {
	case ModeBrowser, ModeNoBrowser:
		f.state, f.verifier = randomState(), oauth2.GenerateVerifier()
		lb, err := newLoopback(opts.Config.RedirectURI, f.state, opts.OnRefused)
		if err != nil {
			return nil, err
		}
		f.lb, f.redirect = lb, lb.redirect
		f.prompt.URL = authCodeURL(opts.Config, f.redirect, f.state, f.verifier, opts.Expected)
		f.prompt.Redirect = f.redirect
		if opts.Mode == ModeBrowser {
			f.prompt.BrowserErr = opts.OpenBrowser(f.prompt.URL)
		}
	case ModePaste:
		f.state, f.verifier = randomState(), oauth2.GenerateVerifier()
		f.redirect = opts.Config.RedirectURI
		f.prompt.URL = authCodeURL(opts.Config, f.redirect, f.state, f.verifier, opts.Expected)
		f.prompt.Redirect = f.redirect
		f.pasted = make(chan pasteMsg, 1)
	case ModeDevice:
		bctx, cancel := context.WithDeadlineCause(ctx, f.deadline, ErrTimeout)
		defer cancel()
		if err := f.beginDevice(bctx); err != nil {
			return nil, explainWait(bctx, opts.Timeout, err)
		}
	default:
		return nil, fmt.Errorf("unknown sign-in mode %q", opts.Mode)
	}
	return f, nil
}

// Prompt says what the person must do.
func (f *Flow) Prompt() Prompt { return f.prompt }

// Paste hands a paste-mode flow the address the browser ended on (or just
// its query); Wait then checks and redeems it. Only the first paste counts.
func (f *Flow) Paste(text string) error {
	if f.pasted == nil {
		return errors.New("this sign-in does not take a pasted address (it is not a --paste sign-in)")
	}
	f.paste(text, nil)
	return nil
}

func (f *Flow) paste(text string, err error) {
	select {
	case f.pasted <- pasteMsg{text, err}:
	default:
	}
}

// Wait waits, until the timeout or ctx ends, for the person to finish,
// then redeems the answer and stores the tokens. A cancelled ctx gives an
// error matching ErrCancelled, the timeout one matching ErrTimeout, a
// refused consent an *AccessDeniedError.
func (f *Flow) Wait(ctx context.Context) (*LoginResult, error) {
	defer f.Close()
	wctx, cancel := context.WithDeadlineCause(ctx, f.deadline, ErrTimeout)
	defer cancel()
	fin := &finisher{base: ctx}
	defer fin.stop()
	var tr *tokenResponse
	var err error
	switch f.prompt.Mode {
	case ModeBrowser, ModeNoBrowser:
		tr, err = f.waitLoopback(wctx, fin)
	case ModePaste:
		tr, err = f.waitPaste(wctx, fin)
	case ModeDevice:
		tr, err = f.waitDevice(wctx)
	}
	if err != nil {
		return nil, f.withRefused(explainWait(wctx, f.opts.Timeout, err))
	}
	return finishLogin(fin.get(), &f.opts, tr)
}

// Close frees the loopback listener of a flow that will not be waited for
// (Wait closes it itself; to stop a Wait, cancel its context). Safe to call
// more than once.
func (f *Flow) Close() {
	f.closeOnce.Do(func() {
		if f.lb != nil {
			f.lb.close()
		}
	})
}

// withRefused adds to a sign-in that did not finish how many requests
// with a wrong state the listener refused meanwhile: whoever sent them
// may be why the person's own sign-in never came.
func (f *Flow) withRefused(err error) error {
	if f.lb == nil {
		return err
	}
	if n := f.lb.refusedCount(); n > 0 {
		return fmt.Errorf("%w (while waiting, %d request(s) with a wrong 'state' were refused: not from this sign-in's browser)", err, n)
	}
	return err
}

func (f *Flow) waitLoopback(ctx context.Context, fin *finisher) (*tokenResponse, error) {
	var cb callback
	select {
	case cb = <-f.lb.results:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if cb.err != nil {
		cb.reply <- landingFor(cb.err)
		return nil, cb.err
	}
	tr, err := exchange(fin.get(), &f.opts, cb.code, f.redirect, f.verifier)
	if err != nil {
		cb.reply <- landingFor(err)
		return nil, err
	}
	cb.reply <- landing{ok: true, identity: identityFromIDToken(tr.IDToken)}
	return tr, nil
}
