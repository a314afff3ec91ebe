package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

func init() {
	register(authCmd)
	register(logoutCmd)
}

// Health values of auth status.
const (
	healthOK       = "ok"
	healthExpiring = "expiring"
	healthSignIn   = "sign-in needed"
	healthError    = "error"
)

// authStatus is one account's line of 'auth status'. It never holds a token.
type authStatus struct {
	Account        string     `json:"account"`
	Provider       string     `json:"provider,omitempty"`
	Identity       string     `json:"identity,omitempty"`
	Scopes         []string   `json:"scopes,omitempty"`
	AccessExpires  *time.Time `json:"access_token_expires,omitempty"`
	RefreshToken   bool       `json:"refresh_token"`
	SignedInAt     *time.Time `json:"signed_in_at,omitempty"`
	RefreshTokenAt *time.Time `json:"refresh_token_issued_at,omitempty"`
	LastRefreshed  *time.Time `json:"last_refreshed,omitempty"`
	Refreshes      int        `json:"refreshes"`
	Health         string     `json:"health"`
	Reason         string     `json:"reason,omitempty"`
}

func authCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "auth", Short: "Sign-in state of OAuth accounts"}
	var asJSON, check bool
	status := &cobra.Command{
		Use:   "status [ACCOUNT]",
		Short: "Show who is signed in, token expiry and health (exit 4 when a sign-in is needed)",
		Long: `Show, for each OAuth account (or the one named): who signed in, the granted
scopes, when the access token expires, the age of the refresh token, the last
refresh, and the health: ok, expiring (the refresh token nears the provider's
idle limit), or sign-in needed. --check refreshes the tokens now to prove they
still work. Exits with 4 when any account needs a new sign-in.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var accts []*account.Account
			if len(args) == 1 {
				a, err := app.oauthAccount(ctx, args[0])
				if err != nil {
					return err
				}
				accts = append(accts, a)
			} else {
				db, err := app.DB(ctx)
				if err != nil {
					return err
				}
				all, err := (&account.Store{DB: db.DB}).List(ctx)
				if err != nil {
					return err
				}
				for _, a := range all {
					if a.Auth == account.AuthXOAuth2 {
						accts = append(accts, a)
					}
				}
			}
			var out []authStatus
			code := exitcode.OK
			for _, a := range accts {
				s := app.accountStatus(ctx, a, check)
				if s.Health == healthSignIn {
					code = exitcode.SignIn
				} else if s.Health == healthError && code == exitcode.OK {
					code = exitcode.Error
				}
				out = append(out, s)
			}
			if asJSON {
				if out == nil {
					out = []authStatus{}
				}
				if err := app.PrintJSON(out); err != nil {
					return err
				}
			} else {
				if len(out) == 0 {
					app.Printf("No account signs in with OAuth.\n")
				}
				for _, s := range out {
					printStatus(app, s)
				}
			}
			if code != exitcode.OK {
				return exitWith(code)
			}
			return nil
		},
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	status.Flags().BoolVar(&check, "check", false, "refresh the tokens now to prove they work")
	cmd.AddCommand(status)
	return cmd
}

// idleLimit is how long a refresh token may go unused before the
// provider lets it die: 90 days at Microsoft, 6 months at Google.
func idleLimit(k provider.Kind) time.Duration {
	if k == provider.Google {
		return 180 * 24 * time.Hour
	}
	return 90 * 24 * time.Hour
}

func (app *App) accountStatus(ctx context.Context, a *account.Account, check bool) authStatus {
	s := authStatus{Account: a.Name}
	st, err := app.secretStore()
	if err != nil {
		s.Health, s.Reason = healthError, err.Error()
		return s
	}
	if check {
		src, _, err := app.newSource(ctx, a)
		if err == nil {
			_, err = src.Refresh(ctx)
		}
		if err != nil {
			var need interface{ NeedsSignIn() bool }
			if errors.As(err, &need) && need.NeedsSignIn() {
				s.Health, s.Reason = healthSignIn, err.Error()
			} else {
				s.Health, s.Reason = healthError, err.Error()
			}
		}
	}
	t, err := oauth.LoadToken(st, a.Name)
	if errors.Is(err, oauth.ErrNoToken) {
		s.Health = healthSignIn
		if s.Reason == "" {
			s.Reason = fmt.Sprintf("nobody has signed in yet: run 'bluemoon login %s'", a.Name)
		}
		return s
	}
	if err != nil {
		s.Health, s.Reason = healthError, err.Error()
		return s
	}
	s.Provider, s.Identity, s.Scopes, s.RefreshToken, s.Refreshes = string(t.Provider), t.Identity, t.Scopes, t.RefreshToken != "", t.Refreshes
	s.AccessExpires, s.SignedInAt, s.RefreshTokenAt, s.LastRefreshed = timePtr(t.Expiry), timePtr(t.ObtainedAt), timePtr(t.RefreshTokenAt), timePtr(t.LastRefreshed)
	if t.AccessToken == "" {
		s.AccessExpires = nil
	}
	if s.Health != "" {
		return s
	}
	now := time.Now()
	lastUse := t.ObtainedAt
	if t.LastRefreshed.After(lastUse) {
		lastUse = t.LastRefreshed
	}
	switch {
	case t.SignInNeeded != "":
		s.Health, s.Reason = healthSignIn, t.SignInNeeded+fmt.Sprintf(" Run 'bluemoon login %s'.", a.Name)
	case t.RefreshToken == "" && !t.Expiry.IsZero() && now.After(t.Expiry):
		s.Health, s.Reason = healthSignIn, "the access token expired and there is no refresh token"
	case t.RefreshToken == "":
		s.Health, s.Reason = healthExpiring, "no refresh token: a new sign-in will be needed when the access token expires"
	case now.Sub(lastUse) > idleLimit(t.Provider)*8/10:
		s.Health = healthExpiring
		s.Reason = fmt.Sprintf("the refresh token has not been used for %s; %s lets it die after %s unused (a test send or 'auth status --check' renews it)",
			roundDays(now.Sub(lastUse)), t.Provider, roundDays(idleLimit(t.Provider)))
	default:
		s.Health = healthOK
	}
	return s
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func roundDays(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return d.Round(time.Minute).String()
}

func ago(t *time.Time) string {
	if t == nil {
		return "never"
	}
	d := time.Since(*t)
	when := t.Local().Format("2006-01-02 15:04 MST")
	if d < 0 {
		return fmt.Sprintf("%s (in %s)", when, roundDays(-d))
	}
	return fmt.Sprintf("%s (%s ago)", when, roundDays(d))
}

func printStatus(app *App, s authStatus) {
	app.Printf("%s", s.Account)
	if s.Provider != "" {
		app.Printf(" (%s)", s.Provider)
	}
	app.Printf("\n")
	if s.SignedInAt != nil {
		who := s.Identity
		if who == "" {
			who = "unknown user"
		}
		app.Printf("  signed in as    %s, %s\n", who, ago(s.SignedInAt))
		app.Printf("  scopes          %s\n", strings.Join(s.Scopes, " "))
		if s.AccessExpires != nil {
			app.Printf("  access token    expires %s\n", ago(s.AccessExpires))
		} else {
			app.Printf("  access token    none\n")
		}
		if s.RefreshToken {
			app.Printf("  refresh token   issued %s\n", ago(s.RefreshTokenAt))
		} else {
			app.Printf("  refresh token   none\n")
		}
		app.Printf("  last refresh    %s (%d refreshes)\n", ago(s.LastRefreshed), s.Refreshes)
	}
	app.Printf("  health          %s\n", s.Health)
	if s.Reason != "" {
		app.Printf("  why             %s\n", s.Reason)
	}
}

func logoutCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "logout ACCOUNT",
		Short: "Delete an account's tokens and revoke them at the provider where it allows",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			acct, err := app.oauthAccount(ctx, args[0])
			if err != nil {
				return err
			}
			st, err := app.secretStore()
			if err != nil {
				return err
			}
			unlock, err := st.Lock(ctx, oauth.SecretName(acct.Name))
			if err != nil {
				return err
			}
			defer unlock()
			t, err := oauth.LoadToken(st, acct.Name)
			if errors.Is(err, oauth.ErrNoToken) {
				app.Printf("Account %s has no stored sign-in.\n", acct.Name)
				return nil
			}
			if err == nil {
				app.revokeAtProvider(ctx, acct, t)
			} else {
				app.Warnf("warning: the stored sign-in cannot be read (%v); deleting it without revoking\n", err)
			}
			if err := oauth.DeleteToken(st, acct.Name); err != nil {
				return err
			}
			app.Printf("Signed out account %s: its tokens are deleted from this computer.\n", acct.Name)
			return nil
		},
	}
}

func (app *App) revokeAtProvider(ctx context.Context, acct *account.Account, t *oauth.Token) {
	cfg, err := credentialsFromDB(ctx, app, acct.Credentials)
	if err != nil {
		app.Warnf("warning: cannot revoke at the provider (%v)\n", err)
		return
	}
	tok := t.RefreshToken
	if tok == "" {
		tok = t.AccessToken
	}
	if tok == "" {
		return
	}
	switch err := oauth.Revoke(ctx, signinHooks.httpClient, cfg, tok); {
	case errors.Is(err, oauth.ErrNoRevocation):
		who := string(cfg.Provider)
		if cfg.Provider == provider.Microsoft {
			who = "Microsoft"
		}
		app.Printf("%s offers apps no way to revoke a token: the refresh token stays valid there until it expires "+
			"(90 days unused for Microsoft) or the user's sessions are revoked (the user's account page, or an administrator: "+
			"Entra admin centre > Users > Revoke sessions).\n", who)
	case err != nil:
		app.Warnf("warning: revoking at the provider failed (%v); the tokens are deleted here anyway\n", err)
	default:
		app.Printf("The sign-in is revoked at the provider (%s).\n", cfg.Provider)
	}
}
