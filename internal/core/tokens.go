package core

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// SignInHandler is called when an operation finds that an account needs a
// new sign-in (err is then a *ReauthError). Core never asks a person
// anything: a face that has one at hand may ask, sign them in (StartSignIn)
// and return nil, and the operation goes on with the new sign-in. An error
// returned (or no handler) ends the operation with it. The CLI's
// "Sign in again now? [Y/n]" is such a handler; unattended runs pass none.
type SignInHandler func(ctx context.Context, acct *account.Account, err error) error

// credentialsConfig reads imported credentials' settings, client secret
// included, for a sign-in or a refresh.
func (s *Service) credentialsConfig(ctx context.Context, name string) (provider.Config, error) {
	cs, err := s.credentials()
	if err != nil {
		return provider.Config{}, err
	}
	cfg, err := cs.Config(ctx, name)
	if errors.Is(err, credstore.ErrNotFound) {
		return provider.Config{}, &NotFoundError{Kind: KindCredentials, Name: name,
			Err: withSuffix(err, ": import the credential file from your administrator first")}
	}
	return cfg, err
}

// withSuffix is err with words after it, still wrapping it.
func withSuffix(err error, suffix string) error { return &suffixed{err, suffix} }

type suffixed struct {
	err    error
	suffix string
}

func (e *suffixed) Error() string { return e.err.Error() + e.suffix }
func (e *suffixed) Unwrap() error { return e.err }

// TokenMarginKey is the setting (a Go duration such as "10m") of how
// little time an access token may have left before it is refreshed.
const TokenMarginKey = "token_margin"

func (s *Service) tokenMargin(ctx context.Context) time.Duration {
	v, ok, err := s.db.Setting(ctx, TokenMarginKey)
	if err != nil || !ok {
		return oauth.DefaultMargin
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d < 0 {
		s.log.Warn("setting "+TokenMarginKey+" is not a duration such as 10m; using the default", "value", v, "default", oauth.DefaultMargin.String())
		return oauth.DefaultMargin
	}
	return d
}

// tokenSource builds an OAuth account's token source (no network).
func (s *Service) tokenSource(ctx context.Context, a *account.Account) (*oauth.Source, error) {
	cfg, err := s.credentialsConfig(ctx, a.Credentials)
	if err != nil {
		return nil, err
	}
	sec, err := s.secrets()
	if err != nil {
		return nil, err
	}
	opts := oauth.SourceOptions{Margin: s.tokenMargin(ctx), HTTPClient: s.opts.HTTPClient}
	if a.SendsVia().API() {
		// An account sending through an API needs a token for the API's
		// resource (Graph's Mail.Send; Google's one token serves both),
		// redeemed with the same refresh token.
		_, opts.Scope = cfg.API()
	}
	return oauth.NewSource(sec, a.Name, cfg, opts), nil
}

// readySource returns a's token source holding a valid access token. When
// a sign-in is needed it asks handler (see SignInHandler), and after a
// sign-in starts again from the new tokens.
func (s *Service) readySource(ctx context.Context, a *account.Account, handler SignInHandler) (*oauth.Source, error) {
	src, err := s.tokenSource(ctx, a)
	if err != nil {
		return nil, err
	}
	_, err = src.AccessToken(ctx)
	if err == nil {
		return src, nil
	}
	if handler == nil || !needsSignIn(err) {
		return nil, err
	}
	if herr := handler(ctx, a, err); herr != nil {
		return nil, herr
	}
	if src, err = s.tokenSource(ctx, a); err != nil {
		return nil, err
	}
	if _, err := src.AccessToken(ctx); err != nil {
		return nil, err
	}
	return src, nil
}

// CheckSignIn makes sure an OAuth account has a valid access token now
// (refreshing it if it is near its end), calling handler when a sign-in
// is needed. Accounts without OAuth have nothing to check.
func (s *Service) CheckSignIn(ctx context.Context, name string, handler SignInHandler) error {
	a, err := s.account(ctx, name)
	if err != nil || a.Auth != account.AuthXOAuth2 {
		return err
	}
	_, err = s.readySource(ctx, a, handler)
	return err
}

// RefreshSignIn refreshes an OAuth account's token now, even one still
// valid: it proves the refresh token works and restarts the provider's
// idle clock (a rotated refresh token is saved first). With a handler, a
// needed sign-in is offered before.
func (s *Service) RefreshSignIn(ctx context.Context, name string, handler SignInHandler) error {
	a, err := s.oauthAccount(ctx, name)
	if err != nil {
		return err
	}
	return s.refresh(ctx, a, handler)
}

func (s *Service) refresh(ctx context.Context, a *account.Account, handler SignInHandler) error {
	if handler != nil {
		if _, err := s.readySource(ctx, a, handler); err != nil {
			return err
		}
	}
	// Exactly one forced refresh, from a new source: the one above may
	// just have refreshed, which proves less than a refresh asked for now.
	src, err := s.tokenSource(ctx, a)
	if err != nil {
		return err
	}
	_, err = src.Refresh(ctx)
	return err
}

// transportConfig is a's transport configuration with its credentials: the
// token source for xoauth2 (valid now, see readySource), the stored
// password for plain and login.
func (s *Service) transportConfig(ctx context.Context, a *account.Account, handler SignInHandler) (transport.Config, error) {
	var password string
	var tokens transport.TokenSource
	switch a.Auth {
	case account.AuthXOAuth2:
		src, err := s.readySource(ctx, a, handler)
		if err != nil {
			return transport.Config{}, err
		}
		tokens = src
	case account.AuthPlain, account.AuthLogin:
		p, err := s.password(a.Name)
		if err != nil {
			return transport.Config{}, err
		}
		password = p
	}
	return s.configFor(ctx, a, password, tokens)
}

// configFor is transport.ConfigFor with, for an account sending through
// an API, the API's base URL from its credentials (a national cloud's
// Graph is not the default one).
func (s *Service) configFor(ctx context.Context, a *account.Account, password string, tokens transport.TokenSource) (transport.Config, error) {
	cfg, err := transport.ConfigFor(a, password, tokens)
	if err != nil {
		return transport.Config{}, exitcode.Usagef("account %s: %w", a.Name, err)
	}
	if cfg.Via.API() {
		cred, err := s.credentialsConfig(ctx, a.Credentials)
		if err != nil {
			return transport.Config{}, err
		}
		cfg.APIEndpoint, _ = cred.API()
	}
	return cfg, nil
}

// localTransportConfig is transportConfig without the network: the token
// source is made but not asked for a token, so a delivery's local checks
// come first and the sign-in is checked after them.
func (s *Service) localTransportConfig(ctx context.Context, a *account.Account) (transport.Config, *oauth.Source, error) {
	var password string
	var src *oauth.Source
	var tokens transport.TokenSource
	switch a.Auth {
	case account.AuthXOAuth2:
		var err error
		if src, err = s.tokenSource(ctx, a); err != nil {
			return transport.Config{}, nil, err
		}
		tokens = src
	case account.AuthPlain, account.AuthLogin:
		p, err := s.password(a.Name)
		if err != nil {
			return transport.Config{}, nil, err
		}
		password = p
	}
	cfg, err := s.configFor(ctx, a, password, tokens)
	if err != nil {
		return transport.Config{}, nil, err
	}
	return cfg, src, nil
}

// password reads the SMTP password stored for a plain / login account.
func (s *Service) password(name string) (string, error) {
	sec, err := s.secrets()
	if err != nil {
		return "", err
	}
	p, err := Password(sec, name)
	if errors.Is(err, ErrNoPassword) {
		return "", &FieldError{Field: "password", Code: CodeRequired, Message: err.Error(), Err: err}
	}
	return p, err
}
