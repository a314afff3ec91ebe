package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

// signinHooks are what tests replace: the browser opener (so a test can
// play the browser, and assert that an unattended run never opened one)
// and the HTTP client used for the authorization server.
var signinHooks = struct {
	openBrowser func(url string) error
	httpClient  *http.Client
}{openBrowser: oauth.OpenBrowser}

// credentialsFromDB reads an imported credential file's settings, client
// secret included, from the credential store.
func credentialsFromDB(ctx context.Context, app *App, name string) (provider.Config, error) {
	cs, err := credentialsStore(ctx, app)
	if err != nil {
		return provider.Config{}, err
	}
	cfg, err := cs.Config(ctx, name)
	if errors.Is(err, credstore.ErrNotFound) {
		return provider.Config{}, &exitcode.UsageError{Err: fmt.Errorf("%w: import the credential file from your administrator first", err)}
	}
	return cfg, err
}

// secretStore opens the data home's secret store (tokens, passwords,
// client secrets); every command reaches it through here.
func (app *App) secretStore() (*secrets.Store, error) {
	home, err := app.Home()
	if err != nil {
		return nil, err
	}
	return secrets.Open(home)
}

// tokenMarginKey is the settings key of the refresh margin (a Go duration
// such as "10m"): access tokens are refreshed when less is left.
const tokenMarginKey = "token_margin"

func (app *App) tokenMargin(ctx context.Context) time.Duration {
	db, err := app.DB(ctx)
	if err != nil {
		return oauth.DefaultMargin
	}
	var v string
	if db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, tokenMarginKey).Scan(&v) != nil {
		return oauth.DefaultMargin
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		app.Warnf("warning: setting %s = %q is not a duration such as 10m; using %s\n", tokenMarginKey, v, oauth.DefaultMargin)
		return oauth.DefaultMargin
	}
	return d
}

// oauthAccount loads an account and checks it signs in with OAuth.
func (app *App) oauthAccount(ctx context.Context, name string) (*account.Account, error) {
	acct, err := app.account(ctx, name)
	if err != nil {
		return nil, err
	}
	if acct.Auth != account.AuthXOAuth2 {
		return nil, exitcode.Usagef("account %s authenticates with %q, not OAuth (xoauth2): there is nothing to sign in to", name, acct.Auth)
	}
	return acct, nil
}

// newSource builds the token source of acct.
func (app *App) newSource(ctx context.Context, acct *account.Account) (*oauth.Source, provider.Config, error) {
	cfg, err := credentialsFromDB(ctx, app, acct.Credentials)
	if err != nil {
		return nil, cfg, err
	}
	st, err := app.secretStore()
	if err != nil {
		return nil, cfg, err
	}
	opts := oauth.SourceOptions{Margin: app.tokenMargin(ctx), HTTPClient: signinHooks.httpClient}
	if acct.SendsVia().API() {
		_, opts.Scope = cfg.API() // Graph's Mail.Send token; Google's serves both
	}
	src := oauth.NewSource(st, acct.Name, cfg, opts)
	return src, cfg, nil
}

// tokenSource returns acct's token source with a valid access token, for
// commands that send (test-send, send, run). When a sign-in is needed:
// unattended (the flag, or stdin not a terminal) it returns the
// *oauth.ReauthError at once (exit code 4) — it never waits and never
// opens a browser; otherwise it asks "Sign in again?" (unless the
// account's confirm_reauth is off), runs the browser sign-in, and returns
// the source of the new sign-in.
func (app *App) tokenSource(ctx context.Context, acct *account.Account, unattended bool) (*oauth.Source, error) {
	src, cfg, err := app.newSource(ctx, acct)
	if err != nil {
		return nil, err
	}
	_, err = src.AccessToken(ctx)
	if err == nil {
		return src, nil
	}
	var need interface{ NeedsSignIn() bool }
	if !errors.As(err, &need) || !need.NeedsSignIn() {
		return nil, err
	}
	if unattended || !app.IsTerminal() {
		return nil, err
	}
	app.Warnf("%v\n", err)
	if acct.ConfirmReauth {
		app.Warnf("Sign in again now? [Y/n] ")
		ans, rerr := readAnswer(app.Stdin)
		if rerr != nil || strings.HasPrefix(strings.ToLower(ans), "n") {
			return nil, err
		}
	}
	if _, lerr := app.runLogin(ctx, acct, cfg, oauth.ModeBrowser, 0); lerr != nil {
		return nil, lerr
	}
	src, _, err = app.newSource(ctx, acct)
	if err != nil {
		return nil, err
	}
	if _, err := src.AccessToken(ctx); err != nil {
		return nil, err
	}
	return src, nil
}

// readAnswer reads one line byte by byte, so nothing after it is consumed
// from a shared stdin.
func readAnswer(r io.Reader) (string, error) {
	var sb strings.Builder
	b := make([]byte, 1)
	for {
		n, err := r.Read(b)
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			sb.WriteByte(b[0])
		}
		if err != nil {
			if sb.Len() > 0 {
				break
			}
			return "", err
		}
	}
	return strings.TrimSpace(sb.String()), nil
}

// runLogin signs acct in and reports who signed in on stderr (stdout is
// kept for the URL or device code a script may read).
func (app *App) runLogin(ctx context.Context, acct *account.Account, cfg provider.Config, mode oauth.Mode, timeout time.Duration) (*oauth.LoginResult, error) {
	st, err := app.secretStore()
	if err != nil {
		return nil, err
	}
	if acct.SendsVia().API() {
		cfg = cfg.WithAPIScope() // one sign-in consents to the API too
	}
	opener := signinHooks.openBrowser
	if app.OpenBrowser != nil {
		opener = app.OpenBrowser
	}
	res, err := oauth.Login(ctx, oauth.LoginOptions{
		Account: acct.Name, Config: cfg, Mode: mode, Timeout: timeout, Expected: acct.From, Store: st,
		Stdout: app.Stdout, Stderr: app.Stderr, Stdin: app.Stdin,
		OpenBrowser: opener, HTTPClient: signinHooks.httpClient,
	})
	if err != nil {
		return nil, fmt.Errorf("sign-in of account %s: %w", acct.Name, err)
	}
	who := res.Identity
	if who == "" {
		who = "(the provider did not say who)"
	}
	app.Warnf("Signed in account %s as %s.\n", acct.Name, who)
	if res.Mismatch {
		app.Warnf("warning: the account sends as %s but %s signed in; the server will refuse mail from an address that user may not send as. "+
			"Run 'bluemoon login %s' again and choose %s.\n", acct.From, res.Identity, acct.Name, acct.From)
	}
	if !res.HasRefreshToken {
		app.Warnf("warning: the provider gave no refresh token, so a new sign-in will be needed when the access token expires (%s)\n", res.Expiry.Local().Format(time.DateTime))
	}
	return res, nil
}
