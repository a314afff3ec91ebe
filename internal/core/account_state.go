package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/keepalive"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/testsend"
)

// AuthKind is how an account proves who it is, as a person would say it.
type AuthKind string

const (
	AuthPassword     AuthKind = "password"  // SMTP PLAIN / LOGIN with a stored password
	AuthGoogle       AuthKind = "google"    // OAuth, Google Workspace / Gmail
	AuthMicrosoft    AuthKind = "microsoft" // OAuth, Microsoft 365 / Outlook.com
	AuthGenericOAuth AuthKind = "generic"   // OAuth, another provider
	AuthNone         AuthKind = "none"      // no authentication (a local relay)
)

// AccountInfo is an account with what a person wants to see about it: the
// settings, whether a password is stored (never the password), its
// sign-in state and its last test send. It is read from this computer
// alone: no network.
type AccountInfo struct {
	*account.Account
	PasswordSet bool
	Kind        AuthKind
	// SignIn is the OAuth sign-in's state; nil for other accounts.
	SignIn *SignInState
	// LastTestSend is the latest test send (or keep-alive test message);
	// nil when there has been none.
	LastTestSend *testsend.Result
}

// Health of an OAuth sign-in (auth status prints these words).
type Health string

const (
	HealthOK       Health = "ok"
	HealthExpiring Health = "expiring"       // works, but will need a sign-in (see Reason)
	HealthSignIn   Health = "sign-in needed" // a person must sign in
	HealthError    Health = "error"          // could not be read or checked
)

// Why a sign-in is needed or will be, for a face's own words. A refusal
// the provider explained carries oauth's finer reason instead of
// ReasonRefused: expired, revoked, mfa, policy, consent, reused.
const (
	ReasonNoTokens       = string(oauth.ReasonNoTokens)  // nobody has signed in (or signed out)
	ReasonRefused        = string(oauth.ReasonRefused)   // the provider refused the refresh token
	ReasonAccessExpired  = "access-expired"              // the access token expired and there is no refresh token
	ReasonNoRefreshToken = string(oauth.ReasonNoRefresh) // works until the access token expires
	ReasonIdle           = "idle"                        // the refresh token nears the provider's idle limit
	ReasonCheckFailed    = "check-failed"                // check: the refresh failed for another reason
	ReasonUnreadable     = "unreadable"                  // the stored sign-in cannot be read
)

// SignInState is an OAuth account's sign-in as this computer knows it
// (auth status). It never holds a token.
type SignInState struct {
	Account        string
	Provider       provider.Kind // of the stored tokens ("" before a sign-in)
	Health         Health
	Reason         string // one of the Reason… constants ("" when ok)
	Message        string // English: why, and what to do
	Identity       string // who signed in
	Scopes         []string
	AccessExpires  time.Time // zero when there is no access token
	RefreshToken   bool
	SignedInAt     time.Time
	RefreshTokenAt time.Time
	LastRefreshed  time.Time
	Refreshes      int
	// Via is how the account sends. An account sending through an API
	// whose token is not the sign-in's own (Graph: Mail.Send beside the
	// sign-in's SMTP.Send) has it described by APIScope and
	// APIAccessExpires, and AccessExpires is then the unused SMTP token's.
	// Google's one token serves SMTP and the Gmail API alike: APIScope "".
	Via              account.Via
	APIScope         string
	APIAccessExpires time.Time // zero until the first send or check fetches one
	// Lifetime lists known lifetimes the refresh token nears or passed
	// (Google's 7 days for an app in Testing, the idle limits), whatever
	// the Health: whether an app is in Testing is not known here.
	Lifetime []keepalive.Warning
}

// Accounts lists every account, by name, with its state.
func (s *Service) Accounts(ctx context.Context) ([]*AccountInfo, error) {
	list, err := s.accounts().List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*AccountInfo, 0, len(list))
	for _, a := range list {
		info, err := s.accountInfo(ctx, a)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// Account returns one account with its state.
func (s *Service) Account(ctx context.Context, name string) (*AccountInfo, error) {
	a, err := s.account(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.accountInfo(ctx, a)
}

// AccountDetail is one account as its own page shows it: its state and
// its daily automatic test send.
type AccountDetail struct {
	*AccountInfo
	// DailyTest is the account's automatic test send (DailyTestSend);
	// nil when there is none.
	DailyTest *ScheduleInfo
}

// AccountDetail is Account and DailyTestSend from one reading of the
// account (and of its stored sign-in): the page tells of one version of
// it, at the cost of one.
func (s *Service) AccountDetail(ctx context.Context, name string) (*AccountDetail, error) {
	a, err := s.account(ctx, name)
	if err != nil {
		return nil, err
	}
	info, err := s.accountInfo(ctx, a)
	if err != nil {
		return nil, err
	}
	daily, err := s.dailyTestSend(ctx, a.Name)
	if err != nil {
		return nil, err
	}
	return &AccountDetail{AccountInfo: info, DailyTest: daily}, nil
}

func (s *Service) accountInfo(ctx context.Context, a *account.Account) (*AccountInfo, error) {
	info := &AccountInfo{Account: a, Kind: AuthNone}
	sec, err := s.secrets()
	if err != nil {
		return nil, err
	}
	info.PasswordSet, _ = HasPassword(sec, a.Name)
	switch a.Auth {
	case account.AuthPlain, account.AuthLogin:
		info.Kind = AuthPassword
	case account.AuthXOAuth2:
		info.Kind = s.oauthKind(ctx, a)
		st := s.signInState(ctx, a, false)
		info.SignIn = &st
	}
	h, err := testsend.History(ctx, s.db.DB, a.Name, 1)
	if err != nil {
		return nil, err
	}
	if len(h) > 0 {
		info.LastTestSend = &h[0]
	}
	return info, nil
}

// oauthKind is the AuthKind of OAuth account a: its credentials' provider,
// AuthGenericOAuth when they name none or cannot be read.
func (s *Service) oauthKind(ctx context.Context, a *account.Account) AuthKind {
	if cs, err := s.credentials(); err == nil {
		if cr, err := cs.Get(ctx, a.Credentials); err == nil {
			switch cr.Provider {
			case provider.Google:
				return AuthGoogle
			case provider.Microsoft:
				return AuthMicrosoft
			}
		}
	}
	return AuthGenericOAuth
}

// SignInStates returns the sign-in state of every OAuth account (auth
// status). With check, each refreshes its token now, to prove it works.
func (s *Service) SignInStates(ctx context.Context, check bool) ([]SignInState, error) {
	all, err := s.accounts().List(ctx)
	if err != nil {
		return nil, err
	}
	var out []SignInState
	for _, a := range all {
		if a.Auth == account.AuthXOAuth2 {
			out = append(out, s.signInState(ctx, a, check))
		}
	}
	return out, nil
}

// SignInStatus returns one OAuth account's sign-in state; with check, it
// refreshes the token now.
func (s *Service) SignInStatus(ctx context.Context, name string, check bool) (*SignInState, error) {
	a, err := s.oauthAccount(ctx, name)
	if err != nil {
		return nil, err
	}
	st := s.signInState(ctx, a, check)
	return &st, nil
}

// idleLimit is how long a refresh token may go unused before the
// provider lets it die: 90 days at Microsoft, 6 months at Google.
func idleLimit(k provider.Kind) time.Duration {
	if k == provider.Google {
		return keepalive.GoogleIdle
	}
	return keepalive.MicrosoftIdle
}

func (s *Service) signInState(ctx context.Context, a *account.Account, check bool) SignInState {
	st := SignInState{Account: a.Name, Via: a.SendsVia()}
	if st.Via.API() {
		if cfg, err := s.credentialsConfig(ctx, a.Credentials); err == nil {
			_, st.APIScope = cfg.API()
		}
	}
	fail := func(h Health, reason string, err error) {
		st.Health, st.Reason, st.Message = h, reason, err.Error()
	}
	sec, err := s.secrets()
	if err != nil {
		fail(HealthError, ReasonUnreadable, err)
		return st
	}
	if check {
		src, err := s.tokenSource(ctx, a)
		if err == nil {
			_, err = src.Refresh(ctx)
		}
		if err != nil {
			var re *ReauthError
			if errors.As(err, &re) {
				fail(HealthSignIn, string(re.Reason), err)
			} else if needsSignIn(err) {
				fail(HealthSignIn, ReasonRefused, err)
			} else {
				fail(HealthError, ReasonCheckFailed, err)
			}
		}
	}
	t, err := oauth.LoadToken(sec, a.Name)
	if errors.Is(err, oauth.ErrNoToken) {
		st.Health = HealthSignIn
		st.Reason = ReasonNoTokens
		if st.Message == "" {
			st.Message = fmt.Sprintf("nobody has signed in yet: run 'bluemoon login %s'", a.Name)
		}
		return st
	}
	if err != nil {
		fail(HealthError, ReasonUnreadable, err)
		return st
	}
	st.Provider, st.Identity, st.Scopes, st.RefreshToken, st.Refreshes = t.Provider, t.Identity, t.Scopes, t.RefreshToken != "", t.Refreshes
	st.SignedInAt, st.RefreshTokenAt, st.LastRefreshed = t.ObtainedAt, t.RefreshTokenAt, t.LastRefreshed
	if t.AccessToken != "" {
		st.AccessExpires = t.Expiry
	}
	if r := t.Resources[st.APIScope]; st.APIScope != "" && r != nil && r.AccessToken != "" {
		st.APIAccessExpires = r.Expiry
	}
	now := s.now()
	st.Lifetime = keepalive.Check(tokenAgeOf(t), now)
	if st.Health != "" {
		return st
	}
	lastUse := t.ObtainedAt
	if t.LastRefreshed.After(lastUse) {
		lastUse = t.LastRefreshed
	}
	switch {
	case t.SignInNeeded != "":
		st.Health, st.Reason, st.Message = HealthSignIn, ReasonRefused, t.SignInNeeded+fmt.Sprintf(" Run 'bluemoon login %s'.", a.Name)
		if t.SignInReason != "" {
			st.Reason = string(t.SignInReason)
		}
	case t.RefreshToken == "" && !t.Expiry.IsZero() && now.After(t.Expiry):
		st.Health, st.Reason, st.Message = HealthSignIn, ReasonAccessExpired, "the access token expired and there is no refresh token"
	case t.RefreshToken == "":
		st.Health, st.Reason, st.Message = HealthExpiring, ReasonNoRefreshToken, "no refresh token: a new sign-in will be needed when the access token expires"
	case now.Sub(lastUse) > idleLimit(t.Provider)*8/10:
		st.Health, st.Reason = HealthExpiring, ReasonIdle
		st.Message = fmt.Sprintf("the refresh token has not been used for %s; %s lets it die after %s unused (a test send or 'auth status --check' renews it)",
			RoundDays(now.Sub(lastUse)), t.Provider, RoundDays(idleLimit(t.Provider)))
	default:
		st.Health = HealthOK
	}
	return st
}

// tokenAgeOf is what the lifetime checks need of a stored token.
func tokenAgeOf(t *oauth.Token) keepalive.TokenAge {
	return newTokenAge(t.Provider, t.ObtainedAt, t.LastRefreshed, t.RefreshTokenAt)
}

// tokenAge is tokenAgeOf of the token st was read from, so a caller that
// has the state need not read the token store again.
func (st *SignInState) tokenAge() keepalive.TokenAge {
	return newTokenAge(st.Provider, st.SignedInAt, st.LastRefreshed, st.RefreshTokenAt)
}

func newTokenAge(p provider.Kind, obtained, refreshed, rotated time.Time) keepalive.TokenAge {
	if rotated.After(refreshed) {
		refreshed = rotated
	}
	return keepalive.TokenAge{Provider: p, Obtained: obtained, LastRefreshed: refreshed}
}

// RoundDays says a duration in days when it is two days or more.
func RoundDays(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return d.Round(time.Minute).String()
}
