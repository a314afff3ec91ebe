package oauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

// DefaultMargin is how long an access token handed out stays valid at
// least: long enough for one SMTP connection's worth of messages.
const DefaultMargin = 10 * time.Minute

// refreshTimeout bounds a refresh that goes on after its caller gave up.
const refreshTimeout = 30 * time.Second

// SourceOptions tunes a Source; zero values are the defaults.
type SourceOptions struct {
	Margin     time.Duration // default DefaultMargin
	HTTPClient *http.Client
	Now        func() time.Time // for tests
	// Scope, when it differs from the credential's token scope, is what
	// this source's access tokens are for: another resource of the same
	// sign-in, such as Microsoft Graph's Mail.Send beside SMTP.Send. The
	// token is redeemed with the sign-in's refresh token and kept beside
	// the sign-in's own access token, which it leaves alone.
	Scope string
}

// Source hands out an account's access tokens, refreshing them when they
// have less than the margin left. One Source per account per process:
// its goroutines share one refresh; other processes are kept in step by
// the secrets store's lock and a re-read under it.
type Source struct {
	account string
	cfg     provider.Config
	store   *secrets.Store
	opts    SourceOptions
	sem     chan struct{} // one refresh at a time in this process; cancellable
	mu      sync.Mutex    // guards tok
	tok     *Token
	// unsaved is a refreshed token that could not be written to disk, and
	// replaced the refresh token it superseded; guarded by sem. After a
	// rotation the server has spent the old refresh token, so this copy is
	// the only live grant until a save succeeds.
	unsaved  *Token
	replaced string
}

// NewSource returns the token source of account, whose sign-in settings
// are cfg.
func NewSource(st *secrets.Store, account string, cfg provider.Config, opts SourceOptions) *Source {
	if opts.Margin <= 0 {
		opts.Margin = DefaultMargin
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if sameScopes(opts.Scope, cfg.TokenScope) {
		opts.Scope = ""
	}
	return &Source{account: account, cfg: cfg, store: st, opts: opts, sem: make(chan struct{}, 1)}
}

// Scope is the scope this source's access tokens are asked with.
func (s *Source) Scope() string {
	if s.opts.Scope != "" {
		return s.opts.Scope
	}
	return s.cfg.TokenScope
}

// access is the access token this source hands out from t, with its
// expiry and when it was issued (zero when t holds none for its scope).
func (s *Source) access(t *Token) (tok string, expiry, issued time.Time) {
	if s.opts.Scope == "" {
		issued = t.LastRefreshed
		if issued.IsZero() {
			issued = t.ObtainedAt
		}
		return t.AccessToken, t.Expiry, issued
	}
	if r := t.Resources[s.opts.Scope]; r != nil {
		return r.AccessToken, r.Expiry, r.IssuedAt
	}
	return "", time.Time{}, time.Time{}
}

func sameScopes(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	if len(fa) != len(fb) {
		return false
	}
	for _, x := range fa {
		if !slices.Contains(fb, x) {
			return false
		}
	}
	return true
}

// AccessToken returns an access token valid for at least the margin,
// refreshing it first if needed. A *ReauthError means a person must sign in.
func (s *Source) AccessToken(ctx context.Context) (string, error) {
	if t := s.cached(); t != nil && s.fresh(t) {
		tok, _, _ := s.access(t)
		return tok, nil
	}
	t, err := s.refresh(ctx, false, "")
	if err != nil {
		return "", err
	}
	tok, _, _ := s.access(t)
	return tok, nil
}

// Refresh gets a new access token even if the current one looks valid
// (the one held now is taken as refused).
func (s *Source) Refresh(ctx context.Context) (string, error) {
	return s.RefreshRefused(ctx, "")
}

// RefreshRefused gets a new access token after a server refused the token
// refused ("": the one held now). Callers refused the same token share one
// refresh: one that asks after another already replaced it gets the newer
// token without asking the server again (reading "the one held now" at
// that point would take the new token for the refused one).
func (s *Source) RefreshRefused(ctx context.Context, refused string) (string, error) {
	stale := refused
	if t := s.cached(); stale == "" && t != nil {
		stale, _, _ = s.access(t)
	}
	t, err := s.refresh(ctx, true, stale)
	if err != nil {
		return "", err
	}
	tok, _, _ := s.access(t)
	return tok, nil
}

// Token returns a copy of the stored token after making sure the access
// token is valid for the margin (refreshing if needed).
func (s *Source) Token(ctx context.Context) (*Token, error) {
	if _, err := s.AccessToken(ctx); err != nil {
		return nil, err
	}
	t := s.cached()
	if t == nil {
		return nil, s.noSignIn()
	}
	c := *t
	return &c, nil
}

// noSignIn is the error for an account with no stored tokens.
func (s *Source) noSignIn() error {
	return &ReauthError{Account: s.account, Reason: ReasonNoTokens, Why: "nobody has signed in to this account yet (or it was signed out)."}
}

func (s *Source) cached() *Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok
}

func (s *Source) setCached(t *Token) {
	s.mu.Lock()
	s.tok = t
	s.mu.Unlock()
}

// fresh says whether t can be handed out. The margin is capped at half the
// token's lifetime, so a server issuing short-lived tokens does not make
// every call refresh.
func (s *Source) fresh(t *Token) bool {
	tok, expiry, issued := s.access(t)
	if tok == "" || t.SignInNeeded != "" {
		return false
	}
	if expiry.IsZero() {
		return true
	}
	margin := s.opts.Margin
	if life := expiry.Sub(issued); life > 0 && margin > life/2 {
		margin = life / 2
	}
	return s.opts.Now().Add(margin).Before(expiry)
}

// serves says whether t answers a refresh request without a new grant: it
// is fresh and, for a forced refresh, is not the token the server refused
// (someone refreshed in the meantime).
func (s *Source) serves(t *Token, force bool, stale string) bool {
	tok, _, _ := s.access(t)
	return s.fresh(t) && (!force || (stale != "" && tok != stale))
}

func (s *Source) refresh(ctx context.Context, force bool, stale string) (*Token, error) {
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	// Another goroutine may have refreshed while this one waited.
	if t := s.cached(); t != nil && s.serves(t, force, stale) {
		return t, nil
	}
	unlock, err := s.store.Lock(ctx, SecretName(s.account))
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Re-read under the lock: another process may have rotated the refresh
	// token; refreshing with our old copy would lose the grant.
	t, err := LoadToken(s.store, s.account)
	if errors.Is(err, ErrNoToken) {
		return nil, s.noSignIn()
	}
	if err != nil {
		return nil, err
	}
	if s.unsaved != nil {
		// The disk still holding the refresh token that the unsaved one
		// replaced means nobody saved a newer grant since: use ours, and
		// write it now. Otherwise (another process signed in or refreshed
		// with its own copy) the disk wins.
		if u := s.unsaved; t.RefreshToken == s.replaced {
			if err := s.save(t, u); err != nil {
				return nil, err
			}
			t = u
		}
		s.unsaved, s.replaced = nil, ""
	}
	if s.serves(t, force, stale) {
		s.setCached(t)
		return t, nil
	}
	if t.SignInNeeded != "" {
		reason := t.SignInReason
		if reason == "" {
			reason = ReasonRefused
		}
		return nil, &ReauthError{Account: s.account, Reason: reason, Why: t.SignInNeeded}
	}
	if t.RefreshToken == "" {
		return nil, &ReauthError{Account: s.account, Reason: ReasonNoRefresh, Why: "the provider gave no refresh token at sign-in, so the access token cannot be renewed."}
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t.RefreshToken}}
	if s.cfg.Provider == provider.Microsoft && s.Scope() != "" || s.opts.Scope != "" {
		// Microsoft refuses a refresh without scope (AADSTS900144), and the
		// scope picks the resource the token is for. Others get none for
		// the sign-in's own token: RFC 6749 §6 then grants what the sign-in
		// granted, while a scope such as offline_access that a server
		// granted only with prompt=consent would be refused as invalid_scope.
		form.Set("scope", s.Scope())
	}
	// Once sent, the request is seen through even if ctx ends (Ctrl-C,
	// serve stopping a job): a server that rotates refresh tokens has
	// already spent the old one, and the reply carrying the new one must
	// reach the disk or the grant is lost. The wait stays bounded.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	tr, err := tokenRequest(rctx, s.opts.HTTPClient, s.cfg, form)
	if err != nil {
		err = classifyScope(s.account, s.Scope(), err)
		var re *ReauthError
		if errors.As(err, &re) {
			t.SignInNeeded, t.SignInReason = re.Why, re.Reason
			t.AccessToken = ""
			delete(t.Resources, s.opts.Scope)
			if serr := SaveToken(s.store, s.account, t); serr != nil {
				return nil, fmt.Errorf("%w (and recording it failed: %v)", err, serr)
			}
			s.setCached(nil)
		}
		return nil, err
	}
	old := *t
	now := s.opts.Now()
	if s.opts.Scope != "" {
		t.applyResource(s.opts.Scope, tr, now)
	} else {
		t.apply(tr, now)
	}
	t.LastRefreshed = now
	t.Refreshes++
	// Save before handing the token out: a rotated refresh token that is
	// not on disk is a grant lost when this process stops.
	if err := s.save(&old, t); err != nil {
		return nil, err
	}
	s.setCached(t)
	return t, nil
}

// saveAttempts and saveBackoff let a save ride out a brief failure (an
// antivirus or backup holding the file, a moment of full disk).
const (
	saveAttempts = 3
	saveBackoff  = 100 * time.Millisecond
)

// save writes t, which replaces old, retrying briefly. When every attempt
// fails, t stays in memory (s.unsaved) so that this process's next refresh
// uses and saves it instead of the disk's copy, whose refresh token the
// server may already have spent. s.sem must be held.
func (s *Source) save(old, t *Token) error {
	var err error
	for i := 0; i < saveAttempts; i++ {
		if i > 0 {
			time.Sleep(time.Duration(i) * saveBackoff)
		}
		if err = SaveToken(s.store, s.account, t); err == nil {
			s.unsaved, s.replaced = nil, ""
			return nil
		}
	}
	s.unsaved, s.replaced = t, old.RefreshToken
	return fmt.Errorf("saving the refreshed sign-in of %s: %w (kept in memory; bluemoon saves it at the next refresh)", s.account, err)
}
