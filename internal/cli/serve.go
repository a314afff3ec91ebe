package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/logfile"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

func init() { register(serveCmd) }

func serveCmd(app *App) *cobra.Command {
	var opt core.ServeOptions
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
--notify-* flags are the alert destinations of schedules that have none;
without them, the home's alert settings (set in the console) are.`,
		Args: noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
			defer stop()
			opt.Runner = newServeRunner(app, svc, opt.Alert)
			return svc.Serve(ctx, opt)
		}),
	}
	cmd.Flags().BoolVar(&opt.Once, "once", false, "handle what is due now and exit (for a minutely cron job or timer)")
	cmd.Flags().DurationVar(&opt.Grace, "grace", schedule.DefaultGrace, "how late a run may start and still count as on time rather than missed")
	cmd.Flags().DurationVar(&opt.Poll, "poll", schedule.DefaultPoll, "how often to look for schedules changed by other commands")
	cmd.Flags().MarkHidden("poll")
	addNotifyFlags(cmd, &opt.Alert)
	return cmd
}

// newServeRunner makes the runner serve uses; tests replace it with
// core.JobRunner, which runs jobs in the test's process.
var newServeRunner = func(app *App, svc *core.Service, fallback alert.Config) schedule.Runner {
	return &childRunner{app: app, home: svc.Home(), fallback: fallback}
}

// childRunner runs each job as `bluemoon schedule run NAME --unattended`
// (a resume: `schedule run --resume-delivery ID`) in a child process: a delivery that crashes does not take the scheduler with
// it, and the job's memory goes back to the system when it ends.
type childRunner struct {
	app      *App
	home     string
	fallback alert.Config
}

// jobExecutable is the program childRunner starts for each job: this
// one (tests point it elsewhere).
var jobExecutable = os.Executable

func (r *childRunner) Run(ctx context.Context, job schedule.Job) schedule.Result {
	exe, err := jobExecutable()
	if err != nil {
		return schedule.Result{ExitCode: exitcode.Error, Message: "cannot find the bluemoon program: " + err.Error(), NotStarted: true}
	}
	args := []string{"--home", r.home, "schedule", "run", "--unattended", "--scheduled"}
	if job.Schedule.Kind == schedule.KindResume {
		args = append(args, "--resume-delivery", job.Schedule.Target)
	}
	if job.Preflight {
		args = append(args, "--preflight")
	} else if job.Schedule.Kind == schedule.KindDelivery {
		args = append(args, "--due", job.Due.UTC().Format(time.RFC3339Nano))
	}
	if r.fallback.Command != "" {
		args = append(args, "--notify-cmd", r.fallback.Command)
	}
	if r.fallback.Email != "" {
		args = append(args, "--notify-email", r.fallback.Email, "--notify-account", r.fallback.EmailAccount)
	}
	// The job's error comes back through a file for serve to say on its
	// own output: the job's lines saying it go to the log file alone.
	// Without a temporary folder to write it in, the job runs all the
	// same and says its error itself, as it did before.
	errName := ""
	if errFile, err := os.CreateTemp("", "bluemoon-job-*.txt"); err != nil {
		r.app.Logger().Warn("the job's error is left to its own output", "err", err)
	} else {
		errName = errFile.Name()
		errFile.Close()
		defer os.Remove(errName)
		args = append(args, "--error-file", errName)
	}
	// After "--", a name is never read as a flag (one saved before
	// names were checked may start with '-').
	if job.Schedule.Kind != schedule.KindResume {
		args = append(args, "--", job.Schedule.Name)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stdout, cmd.Stderr = r.app.Stderr, r.app.Stderr
	// The job runs while its standard input stays open (schedule run
	// --scheduled): closing it stops the job as the scheduler stopping,
	// and a serve that dies closes it too.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return schedule.Result{ExitCode: exitcode.Error, Message: "cannot start the job: " + err.Error(), NotStarted: true}
	}
	// On shutdown ask the job to stop as Ctrl-C would (a delivery pauses
	// cleanly, for the next serve to resume), and kill it only if it does
	// not within two minutes. Windows has no Ctrl-C to send a child: the
	// end of its input says it there.
	cmd.Cancel = func() error {
		if runtime.GOOS == "windows" {
			return stdin.Close()
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
		var end jobEnd
		if errName != "" {
			end = readJobEnd(errName)
			r.sayError(job, ee.ExitCode(), end.Error)
		}
		msg := fmt.Sprintf("exit status %d (see the log)", ee.ExitCode())
		if end.Note != "" {
			msg = end.Note
		}
		return schedule.Result{ExitCode: ee.ExitCode(), Message: msg, Cause: end.Cause, Delivery: end.Delivery}
	case ctx.Err() != nil && cmd.Process == nil && job.Schedule.Kind == schedule.KindDelivery && !job.Preflight:
		// serve stopped before the job could start: it sent nothing.
		return schedule.Result{ExitCode: exitcode.Paused, Message: schedule.InterruptedMessage, Interrupted: true}
	case ctx.Err() == nil && cmd.Process == nil:
		// The program could not be started (missing, not executable):
		// the job did nothing and said nothing; the scheduler alerts.
		return schedule.Result{ExitCode: exitcode.Error, Message: "cannot start " + exe + ": " + err.Error(), NotStarted: true}
	default:
		return schedule.Result{ExitCode: exitcode.Error, Message: err.Error()}
	}
}

// sayError puts on serve's output, not in the log file (the job wrote it
// there), the error the job left in its file, one line per failed job.
func (r *childRunner) sayError(job schedule.Job, code int, text string) {
	if text == "" {
		return
	}
	log := r.app.Logger().With(logfile.StderrOnly())
	if job.Schedule.Name != "" {
		log = log.With("schedule", job.Schedule.Name)
	}
	log.Error("job did not succeed", "kind", string(job.Schedule.Kind), "target", job.Schedule.Target, "exit", code, "err", text)
}
