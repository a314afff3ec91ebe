package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

func init() {
	register(authCmd)
	register(logoutCmd)
}

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
	Via            string     `json:"via"`
	// The API's own token, where it is not the sign-in's (Graph).
	APIScope   string     `json:"api_scope,omitempty"`
	APIExpires *time.Time `json:"api_access_token_expires,omitempty"`
}

func viewStatus(s core.SignInState) authStatus {
	return authStatus{Account: s.Account, Provider: string(s.Provider), Identity: s.Identity, Scopes: s.Scopes,
		AccessExpires: timePtr(s.AccessExpires), RefreshToken: s.RefreshToken, SignedInAt: timePtr(s.SignedInAt),
		RefreshTokenAt: timePtr(s.RefreshTokenAt), LastRefreshed: timePtr(s.LastRefreshed), Refreshes: s.Refreshes,
		Health: string(s.Health), Reason: s.Message, Via: string(s.Via), APIScope: s.APIScope, APIExpires: timePtr(s.APIAccessExpires)}
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
		Args: maxArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			var states []core.SignInState
			if len(args) == 1 {
				st, err := svc.SignInStatus(ctx, args[0], check)
				if err != nil {
					return err
				}
				states = append(states, *st)
			} else {
				var err error
				if states, err = svc.SignInStates(ctx, check); err != nil {
					return err
				}
			}
			out := []authStatus{}
			code := exitcode.OK
			for _, s := range states {
				if s.Health == core.HealthSignIn {
					code = exitcode.SignIn
				} else if s.Health == core.HealthError && code == exitcode.OK {
					code = exitcode.Error
				}
				out = append(out, viewStatus(s))
			}
			if asJSON {
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
		}),
	}
	status.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	status.Flags().BoolVar(&check, "check", false, "refresh the tokens now to prove they work")
	cmd.AddCommand(status)
	return cmd
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (a *App) ago(t *time.Time) string {
	if t == nil {
		return "never"
	}
	d := time.Since(*t)
	when := a.when(*t)
	if d < 0 {
		return fmt.Sprintf("%s (in %s)", when, core.RoundDays(-d))
	}
	return fmt.Sprintf("%s (%s ago)", when, core.RoundDays(d))
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
		app.Printf("  signed in as    %s, %s\n", who, app.ago(s.SignedInAt))
		app.Printf("  scopes          %s\n", strings.Join(s.Scopes, " "))
		label := "access token"
		if s.APIScope != "" {
			label = "SMTP token" // the sign-in's own; the account sends with the next one
		}
		if s.AccessExpires != nil {
			app.Printf("  %-15s expires %s\n", label, app.ago(s.AccessExpires))
		} else {
			app.Printf("  %-15s none\n", label)
		}
		if s.APIScope != "" {
			label = s.Via + " token"
			if s.APIExpires != nil {
				app.Printf("  %-15s expires %s\n", label, app.ago(s.APIExpires))
			} else {
				app.Printf("  %-15s none yet (fetched at the next send)\n", label)
			}
		}
		if s.RefreshToken {
			app.Printf("  refresh token   issued %s\n", app.ago(s.RefreshTokenAt))
		} else {
			app.Printf("  refresh token   none\n")
		}
		app.Printf("  last refresh    %s (%d refreshes)\n", app.ago(s.LastRefreshed), s.Refreshes)
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
		Args:  exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			name := args[0]
			res, err := svc.SignOut(ctx, name)
			if err != nil {
				return err
			}
			if !res.HadSignIn {
				app.Printf("Account %s has no stored sign-in.\n", name)
				return nil
			}
			switch {
			case res.ReadErr != nil:
				app.Warnf("warning: the stored sign-in cannot be read (%v); deleting it without revoking\n", res.ReadErr)
			case res.ConfigErr != nil:
				app.Warnf("warning: cannot revoke at the provider (%v)\n", res.ConfigErr)
			case errors.Is(res.RevokeErr, core.ErrNoRevocation):
				who := string(res.Provider)
				if res.Provider == provider.Microsoft {
					who = "Microsoft"
				}
				app.Printf("%s offers apps no way to revoke a token: the refresh token stays valid there until it expires "+
					"(90 days unused for Microsoft) or the user's sessions are revoked (the user's account page, or an administrator: "+
					"Entra admin centre > Users > Revoke sessions).\n", who)
			case res.RevokeErr != nil:
				app.Warnf("warning: revoking at the provider failed (%v); the tokens are deleted here anyway\n", res.RevokeErr)
			case res.Revoked:
				app.Printf("The sign-in is revoked at the provider (%s).\n", res.Provider)
			}
			app.Printf("Signed out account %s: its tokens are deleted from this computer.\n", name)
			return nil
		}),
	}
}
