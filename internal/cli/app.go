// Package cli is bluemoon's command line: each command parses its flags,
// calls internal/core (the service layer the web console calls too) and
// prints the result. Each command group lives in its own file and
// registers itself with register().
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/home"
	"github.com/bluemoon-mail/bluemoon/internal/logfile"
	"github.com/bluemoon-mail/bluemoon/internal/redact"
)

// App carries what every command needs: where the data lives and the
// process's standard streams (replaced in tests).
type App struct {
	HomeFlag string
	Stdin    io.Reader
	Stdout   io.Writer
	Stderr   io.Writer
	// IsTerminal reports whether stdin is an interactive terminal; commands
	// never wait for a person when it is false.
	IsTerminal func() bool
	// OpenBrowser, when set, replaces the system browser for sign-ins and
	// the console.
	OpenBrowser func(url string) error
	// Location is the zone listings show times in (default: the
	// computer's).
	Location *time.Location

	homeDir string
	svcOnce sync.Once
	svc     *core.Service
	svcErr  error
	log     *logfile.Process // Logger(): stderr + <home>/logs/bluemoon.log
}

// signinHooks are what tests replace: the browser opener (so a test can
// play the browser, and assert that an unattended run never opened one)
// and the HTTP client used for the authorization server. nil: the
// service's defaults (the system browser, Go's client).
var signinHooks struct {
	openBrowser func(url string) error
	httpClient  *http.Client
}

// Home resolves and creates the data home (0700).
func (a *App) Home() (string, error) {
	if a.homeDir != "" {
		return a.homeDir, nil
	}
	dir, err := home.Resolve(a.HomeFlag)
	if err != nil {
		return "", err
	}
	if err := home.Ensure(dir); err != nil {
		return "", err
	}
	a.homeDir = dir
	return dir, nil
}

// service opens the data home's core.Service once per process, on the
// first command that needs it (demo and version never do).
func (a *App) service(ctx context.Context) (*core.Service, error) {
	a.svcOnce.Do(func() {
		opener := signinHooks.openBrowser
		if a.OpenBrowser != nil {
			opener = a.OpenBrowser
		}
		a.svc, a.svcErr = core.Open(ctx, core.Options{Home: a.HomeFlag, HTTPClient: signinHooks.httpClient,
			OpenBrowser: opener, Logger: slog.New(logfile.Lazy(a.Logger))})
	})
	return a.svc, a.svcErr
}

// Close releases the service and the log file.
func (a *App) Close() error {
	var err error
	if a.svc != nil {
		err = a.svc.Close()
	}
	a.closeLog()
	return err
}

// PrintJSON writes v as indented JSON to stdout.
func (a *App) PrintJSON(v any) error {
	enc := json.NewEncoder(a.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Printf writes human-readable output to stdout.
func (a *App) Printf(format string, args ...any) {
	fmt.Fprintf(a.Stdout, format, args...)
}

// Warnf writes a warning or progress line to stderr.
func (a *App) Warnf(format string, args ...any) {
	fmt.Fprintf(a.Stderr, format, args...)
}

var registry []func(*App) *cobra.Command

// register adds a top-level command; called from init() in each command file.
func register(f func(*App) *cobra.Command) { registry = append(registry, f) }

// run makes a command's RunE from fn, handing it the service.
func (a *App) run(fn func(ctx context.Context, svc *core.Service, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		svc, err := a.service(cmd.Context())
		if err != nil {
			return err
		}
		return fn(cmd.Context(), svc, args)
	}
}

// NewRoot builds the command tree for app.
func NewRoot(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "bluemoon",
		Short: "Bulk and personalised mail through your own Google or Microsoft mailbox (OAuth 2.0) or any SMTP server",
		Long: `bluemoon sends bulk and personalised mail (mail merge) through your organisation's
own Google Workspace / Gmail or Microsoft 365 / Outlook.com mailboxes, signing in with
OAuth 2.0 as your organisation's internal app, or through any SMTP server.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// --unattended (the convention of every command a timer may start):
		// what the command writes to stderr also goes to the log file.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if f := cmd.Flags().Lookup("unattended"); f != nil && f.Value.String() == "true" {
				app.teeStderrToLog()
			}
			return nil
		},
	}
	// The default is what the caller already set (the demo runs commands on
	// its own home), since StringVar overwrites the variable with it.
	root.PersistentFlags().StringVar(&app.HomeFlag, "home", app.HomeFlag, "data folder (default: $"+home.EnvVar+", else the user config folder + bluemoon)")
	for _, f := range registry {
		root.AddCommand(f(app))
	}
	root.InitDefaultCompletionCmd() // now, not at Execute, so that guardGroups sees it
	guardGroups(root)
	root.SetIn(app.Stdin)
	root.SetOut(app.Stdout)
	root.SetErr(app.Stderr)
	// Flag mistakes are usage errors (exit 2), like any other bad input.
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitcode.UsageError{Err: fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	return root
}

// Run executes bluemoon with args and returns the process exit code.
func Run(ctx context.Context, app *App, args []string) int {
	if app.Stdin == nil {
		app.Stdin = os.Stdin
	}
	if app.Stdout == nil {
		app.Stdout = os.Stdout
	}
	if app.Stderr == nil {
		app.Stderr = os.Stderr
	}
	if app.IsTerminal == nil {
		app.IsTerminal = func() bool { return stdinIsTerminal() }
	}
	root := NewRoot(app)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	defer app.Close()
	if err != nil {
		var silent *silentError
		if !errors.As(err, &silent) {
			// Masked in case a token slipped into an error message.
			fmt.Fprintf(app.Stderr, "bluemoon: %s\n", redact.String(err.Error()))
		}
		return codeFor(err)
	}
	return exitcode.OK
}

// silentError carries an exit code for a failure already explained on
// stderr (a delivery that finished with failures, say).
type silentError struct{ code int }

func (e *silentError) Error() string { return fmt.Sprintf("exit status %d", e.code) }
func (e *silentError) ExitCode() int { return e.code }

// exitWith returns an error that makes Run exit with code without printing.
func exitWith(code int) error { return &silentError{code: code} }
