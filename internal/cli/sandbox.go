package cli

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/home"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/rehearsal"
	"github.com/bluemoon-mail/bluemoon/internal/web"
)

func init() { register(sandboxCmd) }

func sandboxCmd(app *App) *cobra.Command {
	var addr string
	var noBrowser, reset bool
	c := &cobra.Command{
		Use:   "sandbox [--reset] [--addr 127.0.0.1:PORT] [--no-browser]",
		Short: "Open the console on stand-in servers to rehearse a delivery without mailing anyone",
		Long: `Starts, on 127.0.0.1, a Google-like and a Microsoft-like sign-in server with their
SMTP servers and mail APIs, and a plain SMTP relay, then opens the console on a data home
of its own (bluemoon-sandbox beside your normal home, or --home DIR; $BLUEMOON_HOME is
never used, as it names a real home) with an account for each: google,
microsoft and relay. Everything they accept shows in the console's Inbox, decoded;
nothing leaves this computer. Every page says it is the sandbox.

Signing in to google or microsoft shows the stand-in's consent page in a new tab, with a
button to press, as the real providers do. The home is kept between runs (accounts,
sign-ins, deliveries, the inbox, the stand-ins' ports) until --reset, which removes it
and starts afresh. 'bluemoon demo' is the one-shot demo in the terminal.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir, err := sandboxHome(app.HomeFlag)
			if err != nil {
				return err
			}
			if reset {
				if err := refuseResetWhileRunning(dir); err != nil {
					return err
				}
				removed, err := rehearsal.Reset(dir)
				if errors.Is(err, rehearsal.ErrNotSandbox) {
					return &exitcode.UsageError{Err: err}
				}
				if err != nil {
					return err
				}
				if removed {
					app.Warnf("Removed the sandbox at %s: its accounts, sign-ins, deliveries, inbox and stand-in servers' state.\n", dir)
				} else {
					app.Warnf("There was no sandbox at %s; nothing removed.\n", dir)
				}
			}
			if err := rehearsal.Prepare(dir); err != nil {
				if errors.Is(err, rehearsal.ErrNotSandbox) {
					return &exitcode.UsageError{Err: err}
				}
				return err
			}
			if err := home.Ensure(dir); err != nil {
				return err
			}
			app.homeDir = dir
			return app.runConsole(cmd.Context(), web.Options{Addr: addr, Sandbox: true}, noBrowser,
				func(svc *core.Service, opts *web.Options) (func(), error) {
					r, err := rehearsal.Start(cmd.Context(), svc, 0)
					if err != nil {
						return nil, err
					}
					opts.Inbox = r.Inbox
					app.describeSandbox(r)
					return func() { r.Close() }, nil
				})
		},
	}
	c.Flags().BoolVar(&reset, "reset", false, "remove the sandbox home (accounts, sign-ins, deliveries, inbox) and start afresh")
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "where the console listens: 127.0.0.1 and a port (0: a free one)")
	c.Flags().BoolVar(&noBrowser, "no-browser", false, "only print the console's address; do not open a browser")
	return c
}

// refuseResetWhileRunning: a sandbox console still serving from the home
// would lose its files under it.
func refuseResetWhileRunning(dir string) error {
	if _, err := os.Stat(dir); err != nil || rehearsal.Check(dir) != nil {
		return nil // nothing there, or Reset refuses it anyway
	}
	release, running, err := web.Claim(dir)
	if err != nil {
		return err
	}
	if running != nil {
		return exitcode.Usagef("the sandbox at %s is running (console at %s): stop it with Ctrl-C first, then --reset", dir, running.BaseURL())
	}
	release()
	return nil
}

// sandboxHome is --home when given (never $BLUEMOON_HOME, which names a
// real home), else the sandbox's own folder beside the normal home.
func sandboxHome(flag string) (string, error) {
	if flag != "" {
		return filepath.Abs(flag)
	}
	return rehearsal.DefaultHome()
}

// describeSandbox says where the sandbox lives and what runs, on stderr
// (stdout carries only the console's address, for scripts).
func (app *App) describeSandbox(r *rehearsal.Rehearsal) {
	app.Warnf("Sandbox home: %s (kept between runs; 'bluemoon sandbox --reset' starts afresh).\n", r.Home)
	app.Warnf("Stand-in servers on 127.0.0.1 (nothing here reaches the internet):\n")
	for _, p := range []*struct {
		name, signin, smtp, api string
	}{
		{rehearsal.GoogleAccount, r.Google.OAuth.URL(), r.Google.SMTP.Addr(), r.Google.API.URL()},
		{rehearsal.MicrosoftAccount, r.Microsoft.OAuth.URL(), r.Microsoft.SMTP.Addr(), r.Microsoft.API.URL()},
	} {
		app.Warnf("  %-9s sign-in %s   SMTP %s   API %s\n", p.name, p.signin, p.smtp, p.api)
	}
	app.Warnf("  %-9s SMTP %s (password account)\n", rehearsal.RelayAccount, r.Relay.Addr())
	if len(r.Made) > 0 {
		app.Warnf("Made: %s.\n", strings.Join(r.Made, ", "))
	}
	app.Warnf("Accounts %s, %s and %s send to the stand-ins; what they deliver shows in the console's Inbox.\n",
		rehearsal.GoogleAccount, rehearsal.MicrosoftAccount, rehearsal.RelayAccount)
}
