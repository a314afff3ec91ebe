package cli

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
)

func init() { register(loginCmd) }

func loginCmd(app *App) *cobra.Command {
	var noBrowser, device, paste bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "login ACCOUNT",
		Short: "Sign in to an OAuth account (Google or Microsoft) and store its tokens",
		Long: `Sign in to an account that sends with OAuth (auth xoauth2) and store its tokens.

By default the system browser opens on the provider's sign-in page and a
listener on 127.0.0.1 receives the answer. Without a browser on this machine:
  --no-browser  print the sign-in address alone on one line of stdout and wait;
                open it in a browser on this computer
  --device      device-code sign-in (Microsoft): open the printed address on any
                device and enter the printed code
  --paste       open the printed address in a browser on any computer, then
                paste back the address the browser ended on (works for Google)`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mode := oauth.ModeBrowser
			n := 0
			for _, f := range []struct {
				on bool
				m  oauth.Mode
			}{{noBrowser, oauth.ModeNoBrowser}, {device, oauth.ModeDevice}, {paste, oauth.ModePaste}} {
				if f.on {
					mode = f.m
					n++
				}
			}
			if n > 1 {
				return exitcode.Usagef("--no-browser, --device and --paste are alternatives: give one")
			}
			if timeout < 0 {
				return exitcode.Usagef("--timeout %s: give a positive duration such as 5m", timeout)
			}
			ctx := cmd.Context()
			acct, err := app.oauthAccount(ctx, args[0])
			if err != nil {
				return err
			}
			cfg, err := credentialsFromDB(ctx, app, acct.Credentials)
			if err != nil {
				return err
			}
			_, err = app.runLogin(ctx, acct, cfg, mode, timeout)
			return err
		},
	}
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the sign-in address instead of opening a browser")
	cmd.Flags().BoolVar(&device, "device", false, "sign in with a code on another device (Microsoft)")
	cmd.Flags().BoolVar(&paste, "paste", false, "sign in on another computer and paste back the address the browser ended on")
	cmd.Flags().DurationVar(&timeout, "timeout", oauth.DefaultLoginTimeout, "how long to wait for the sign-in")
	return cmd
}
