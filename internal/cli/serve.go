package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/gofrs/flock"
	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

func init() { register(serveCmd) }

func serveCmd(app *App) *cobra.Command {
	var (
		once     bool
		grace    time.Duration
		poll     time.Duration
		fallback alert.Config
	)
	cmd := &cobra.Command{
		Use:   "serve [--once]",
		Short: "Run scheduled deliveries, keep-alives and preflights (long-running)",
		Long: `Run the schedules of this data home: each scheduled delivery at its time (one
per account at a time; a second waits), its preflight ahead of it, and the
keep-alives. Runs missed while serve was not running follow each schedule's
--missed policy (run once now, or skip), and are logged either way.
Each job runs as 'bluemoon schedule run NAME --unattended' in a child process:
nothing ever waits for a person; alerts say when one is needed.

--once handles what is due now and exits: for a minutely cron job or timer
instead of a long-running process. 'bluemoon schedule install' prints both set-ups.
--notify-* flags are the alert destinations of schedules that have none.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := app.checkAlert(cmd.Context(), fallback); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM)
			defer stop()
			home, err := app.Home()
			if err != nil {
				return err
			}
			db, err := app.DB(ctx)
			if err != nil {
				return err
			}
			log := app.Logger()
			// One scheduler per data home: two would each run every job.
			lock := flock.New(filepath.Join(home, "locks", "serve.lock"))
			os.MkdirAll(filepath.Dir(lock.Path()), 0o700)
			ok, err := lock.TryLock()
			if err != nil {
				return err
			}
			if !ok {
				if once {
					log.Info("serve --once: another bluemoon serve is handling the schedules of this home")
					return nil
				}
				return exitcode.Usagef("another 'bluemoon serve' is running for %s", home)
			}
			sch := &schedule.Scheduler{
				Store: &schedule.Store{DB: db.DB}, Clock: schedule.RealClock{},
				Runner: newServeRunner(app, home, fallback),
				AccountOf: func(ctx context.Context, s *schedule.Schedule) (string, error) {
					d, err := (&saved.Store{DB: db.DB}).Get(ctx, s.Target)
					if err != nil {
						return "", err
					}
					return d.Account, nil
				},
				Log: log, Notifier: app.notifier(), DefaultAlert: fallback, Grace: grace, Poll: poll,
			}
			if once {
				_, err := sch.Tick(ctx, time.Now())
				// The decisions are recorded: let the next --once (a minute
				// later) handle other schedules while these jobs run.
				lock.Unlock()
				sch.Wait()
				return err
			}
			defer lock.Unlock()
			log.Info("serve started", "home", home, "pid", os.Getpid())
			go app.watchTokenLifetimes(ctx, fallback)
			err = sch.Serve(ctx)
			log.Info("serve stopped")
			return err
		},
	}
	cmd.Flags().BoolVar(&once, "once", false, "handle what is due now and exit (for a minutely cron job or timer)")
	cmd.Flags().DurationVar(&grace, "grace", schedule.DefaultGrace, "how late a run may start and still count as on time rather than missed")
	cmd.Flags().DurationVar(&poll, "poll", schedule.DefaultPoll, "how often to look for schedules changed by other commands")
	cmd.Flags().MarkHidden("poll")
	addNotifyFlags(cmd, &fallback)
	return cmd
}

// newServeRunner makes the runner serve uses; tests replace it with one that
// runs jobs in the test's process.
var newServeRunner = func(app *App, home string, fallback alert.Config) schedule.Runner {
	return &childRunner{app: app, home: home, fallback: fallback}
}

// childRunner runs each job as `bluemoon schedule run NAME --unattended` in
// a child process: a delivery that crashes does not take the scheduler with
// it, and the job's memory goes back to the system when it ends.
type childRunner struct {
	app      *App
	home     string
	fallback alert.Config
}

func (r *childRunner) Run(ctx context.Context, job schedule.Job) schedule.Result {
	exe, err := os.Executable()
	if err != nil {
		return schedule.Result{ExitCode: exitcode.Error, Message: "cannot find the bluemoon program: " + err.Error()}
	}
	args := []string{"--home", r.home, "schedule", "run", job.Schedule.Name, "--unattended"}
	if job.Preflight {
		args = append(args, "--preflight")
	}
	if r.fallback.Command != "" {
		args = append(args, "--notify-cmd", r.fallback.Command)
	}
	if r.fallback.Email != "" {
		args = append(args, "--notify-email", r.fallback.Email, "--notify-account", r.fallback.EmailAccount)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stdout, cmd.Stderr = r.app.Stderr, r.app.Stderr
	// On shutdown ask the job to stop as Ctrl-C would (a delivery pauses
	// cleanly), and kill it only if it does not within two minutes.
	cmd.Cancel = func() error {
		if runtime.GOOS == "windows" {
			return cmd.Process.Kill()
		}
		return cmd.Process.Signal(os.Interrupt)
	}
	cmd.WaitDelay = 2 * time.Minute
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return schedule.Result{ExitCode: exitcode.OK, Message: "ok"}
	case errors.As(err, &ee):
		return schedule.Result{ExitCode: ee.ExitCode(), Message: fmt.Sprintf("exit status %d (see the log)", ee.ExitCode())}
	default:
		return schedule.Result{ExitCode: exitcode.Error, Message: err.Error()}
	}
}
