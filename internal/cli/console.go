package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/web"
)

func init() { register(consoleCmd) }

func consoleCmd(app *App) *cobra.Command {
	var addr string
	var noBrowser bool
	c := &cobra.Command{
		Use:   "console [--addr 127.0.0.1:PORT] [--no-browser]",
		Short: "Open the local web console (accounts, credential files, sign-in, test send) in the browser",
		Long: `Starts the console on 127.0.0.1 (a free port unless --addr says) and opens it in the
browser with a one-time address that logs the browser in; --no-browser only prints the
address. It serves this computer only and stops with Ctrl-C. A second 'bluemoon console'
on the same home opens the running one.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return app.runConsole(cmd.Context(), web.Options{Addr: addr}, noBrowser, nil)
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "where to listen: 127.0.0.1 and a port (0: a free one); no other address is accepted")
	c.Flags().BoolVar(&noBrowser, "no-browser", false, "only print the address; do not open a browser")
	return c
}

// runConsole serves the console of the app's home until ctx ends, or opens
// the one already running there. start, when set, runs once the home is
// claimed and the service open (the sandbox starts its stand-ins there)
// and may fill in opts; what it returns is called when the console stops.
func (app *App) runConsole(ctx context.Context, opts web.Options, noBrowser bool,
	start func(svc *core.Service, opts *web.Options) (stop func(), err error)) error {
	home, err := app.Home()
	if err != nil {
		return err
	}
	release, running, err := web.Claim(home)
	if err != nil {
		return err
	}
	if running != nil {
		url, err := running.LoginURL(ctx)
		if err != nil {
			return err
		}
		app.Warnf("The console of this home is already running at %s.\n", running.BaseURL())
		return app.showConsole(url, noBrowser)
	}
	defer release()
	svc, err := app.service(ctx)
	if err != nil {
		return err
	}
	if start != nil {
		stop, err := start(svc, &opts)
		if err != nil {
			return err
		}
		defer stop()
	}
	opts.Logf = func(f string, a ...any) { app.Logger().Info(fmt.Sprintf(f, a...)) }
	srv, err := web.New(svc, opts)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return usageIfBadAddr(err)
	}
	if err := srv.Publish(home); err != nil {
		return err
	}
	if err := app.showConsole(srv.LoginURL(), noBrowser); err != nil {
		return err
	}
	app.Warnf("Serving the console at %s for this computer only; Ctrl-C stops it.\n", srv.BaseURL())
	return srv.Serve(ctx)
}

// showConsole prints the login address (stdout, for a script) and opens
// the browser with it unless told not to.
func (app *App) showConsole(url string, noBrowser bool) error {
	app.Printf("%s\n", url)
	if noBrowser {
		app.Warnf("Open the address above in your browser; it works once, for 10 minutes.\n")
		return nil
	}
	open := oauth.OpenBrowser
	if app.OpenBrowser != nil {
		open = app.OpenBrowser
	}
	if err := open(url); err != nil {
		app.Warnf("Could not open a browser (%v): open the address above yourself; it works once, for 10 minutes.\n", err)
		return nil
	}
	app.Warnf("Opened the console in your browser.\n")
	return nil
}

// usageIfBadAddr: a refused --addr is the user's mistake (exit 2).
func usageIfBadAddr(err error) error {
	if errors.Is(err, web.ErrNotLoopback) {
		return &exitcode.UsageError{Err: err}
	}
	return err
}
