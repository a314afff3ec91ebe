// Package cli wires bluemoon's commands. Each command group lives in its own
// file and registers itself with register(); the logic belongs to the
// internal packages, so the web console can call the same functions.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/home"
	"github.com/bluemoon-mail/bluemoon/internal/redact"
	"github.com/bluemoon-mail/bluemoon/internal/store"
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
	// OpenBrowser, when set, replaces the system browser for sign-ins (the
	// demo answers its own stand-in's consent page with it).
	OpenBrowser func(url string) error

	homeDir string
	dbOnce  sync.Once
	db      *store.DB
	dbErr   error
	log     logState // Logger(): stderr + <home>/logs/bluemoon.log
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

// DB opens the database in the data home once per process.
func (a *App) DB(ctx context.Context) (*store.DB, error) {
	a.dbOnce.Do(func() {
		dir, err := a.Home()
		if err != nil {
			a.dbErr = err
			return
		}
		a.db, a.dbErr = store.Open(ctx, dir)
	})
	return a.db, a.dbErr
}

// account loads the named account from the database; an unknown name is the
// user's mistake (exit code 2).
func (a *App) account(ctx context.Context, name string) (*account.Account, error) {
	db, err := a.DB(ctx)
	if err != nil {
		return nil, err
	}
	acct, err := (&account.Store{DB: db.DB}).Get(ctx, name)
	if err != nil {
		return nil, usageIfNotFound(err, account.ErrNotFound)
	}
	return acct, nil
}

// usageIfNotFound makes a store's "no such name" error (notFound) a usage
// error, exit code 2: the user named something that does not exist. Other
// errors are returned as they are.
func usageIfNotFound(err, notFound error) error {
	if errors.Is(err, notFound) {
		return &exitcode.UsageError{Err: err}
	}
	return err
}

// Close releases the database.
func (a *App) Close() error {
	a.closeLog()
	if a.db != nil {
		return a.db.Close()
	}
	return nil
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
