package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/redact"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

func init() { register(scheduleCmd) }

func scheduleCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Timed deliveries and keep-alives, run by 'bluemoon serve'",
		Long: `Schedules are kept in the data home and run by 'bluemoon serve' (or by
'bluemoon serve --once' from a minutely cron job or timer; see 'schedule install').`,
		Args: noArgs,
	}
	cmd.AddCommand(scheduleAddCmd(app), scheduleKeepaliveCmd(app), scheduleListCmd(app),
		scheduleRemoveCmd(app), schedulePauseCmd(app, true), schedulePauseCmd(app, false),
		scheduleRunCmd(app), scheduleInstallCmd(app))
	return cmd
}

// addWhenFlags adds the timing flags shared by `schedule add` and `schedule keepalive`.
func addWhenFlags(cmd *cobra.Command, in *core.ScheduleInput, defCron, defMissed string) {
	f := cmd.Flags()
	f.StringVar(&in.Cron, "cron", defCron, `cron expression in --tz: "minute hour day month weekday" (e.g. "0 9 * * 1-5"), or @daily, @hourly, @every 6h`)
	if defCron == "" {
		f.StringVar(&in.At, "at", "", `one-off time: "2026-12-01 09:00" (in --tz) or RFC 3339`)
	}
	f.StringVar(&in.TZ, "tz", "Local", "time zone of --cron and --at (IANA name: Asia/Tokyo, UTC, Europe/London…)")
	f.StringVar((*string)(&in.Missed), "missed", defMissed, "a run missed while serve was down: run-once (at start-up) or skip (and alert)")
	addNotifyFlags(cmd, &in.Alert)
}

func scheduleAddCmd(app *App) *cobra.Command {
	in := core.ScheduleInput{Kind: schedule.KindDelivery}
	cmd := &cobra.Command{
		Use:   `add NAME --run SAVED_DELIVERY (--cron "EXPR" | --at TIME) [--tz ZONE]`,
		Short: "Schedule a saved delivery",
		Long: `Schedule the saved delivery given by --run. A preflight (--preflight, default
24h before each run; 0 turns it off) checks the list, the template, the
sign-in and the SMTP login, and raises an alert at once when something would
fail, while there is still time to fix it. NAME is 1-100 letters (Japanese
too), digits, '-' or '_', starting with a letter or digit.`,
		Args: exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			in.Name = args[0]
			return app.addSchedule(ctx, svc, in)
		}),
	}
	cmd.Flags().StringVar(&in.Target, "run", "", "saved delivery to run")
	cmd.Flags().DurationVar(&in.Preflight, "preflight", schedule.DefaultPreflight, "how long before each run to check that it will work (0: no preflight)")
	addWhenFlags(cmd, &in, "", string(schedule.MissedSkip))
	return cmd
}

func scheduleKeepaliveCmd(app *App) *cobra.Command {
	in := core.ScheduleInput{Kind: schedule.KindKeepAlive}
	cmd := &cobra.Command{
		Use:   "keepalive ACCOUNT [--cron EXPR] [--send-test]",
		Short: "Refresh an account's sign-in on a schedule (default daily)",
		Args:  exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			in.Target = args[0]
			return app.addSchedule(ctx, svc, in)
		}),
	}
	cmd.Flags().StringVar(&in.Name, "name", "", "schedule name: letters (Japanese too), digits, '-' or '_' (default keepalive-ACCOUNT, its '.', '@' and '+' made '-')")
	cmd.Flags().BoolVar(&in.SendTest, "send-test", false, "also send a test message to the account itself")
	addWhenFlags(cmd, &in, schedule.DefaultKeepAliveCron, string(schedule.MissedRunOnce))
	return cmd
}

func (a *App) addSchedule(ctx context.Context, svc *core.Service, in core.ScheduleInput) error {
	s, err := svc.AddSchedule(ctx, in)
	if err != nil {
		return err
	}
	next := a.nextText(s)
	if !s.Paused && s.NextErr == nil && !s.Next.IsZero() && s.Location != nil {
		// The rule's own zone first, as it was given; this computer's after.
		if own := s.Next.In(s.Location).Format(whenLayout); own != next {
			next = own + " (" + next + " here)"
		}
	}
	a.Printf("added schedule %s: %s %s, next %s\n", s.Name, s.Kind, s.Target, next)
	a.Printf("schedules run while 'bluemoon serve' runs (see 'bluemoon schedule install')\n")
	return nil
}

// nextText is the next run in the listing zone, or why there is none.
func (a *App) nextText(s *core.ScheduleInfo) string {
	switch {
	case s.Paused:
		return "paused"
	case s.NextErr != nil:
		return "error: " + s.NextErr.Error()
	case s.Next.IsZero():
		return "done"
	}
	return a.when(s.Next)
}

type scheduleView struct {
	*schedule.Schedule
	Next         string             `json:"next"`
	LastDelivery *core.LastDelivery `json:"last_delivery_now,omitempty"`
}

func scheduleListCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List schedules with their next run and last result",
		Args:  noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			list, err := svc.Schedules(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				views := []scheduleView{}
				for _, s := range list {
					views = append(views, scheduleView{Schedule: s.Schedule, Next: app.nextText(s), LastDelivery: s.LastDelivery})
				}
				return app.PrintJSON(views)
			}
			if len(list) == 0 {
				app.Printf("no schedules (see 'bluemoon schedule add --help')\n")
				return nil
			}
			tw := newTable(app.Stdout, "NAME", "KIND", "RUNS", "WHEN", "ZONE", "NEXT", "LAST")
			for _, s := range list {
				when := s.Cron
				if when == "" {
					when = "at " + app.when(s.At)
				}
				last := "-"
				switch {
				case s.LastRunAt.IsZero():
				case s.LastInterrupted && !s.Interrupted.IsZero():
					last = app.when(s.LastRunAt) + " interrupted (runs when serve starts)"
				case s.LastInterrupted:
					last = app.when(s.LastRunAt) + " interrupted"
				default:
					last = fmt.Sprintf("%s exit %d", app.when(s.LastRunAt), s.LastExit) + lastCauseText(app, s)
				}
				tw.Row(s.Name, s.Kind, s.Target, when, s.TZ, app.nextText(s), last)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// lastCauseText says how the delivery a schedule's last run left paused
// for the scheduler to resume stands now: still paused for it, or gone on
// since (the resume or a person finished, cancelled or paused it).
func lastCauseText(a *App, s *core.ScheduleInfo) string {
	resumes := func(cause string) string {
		switch cause {
		case core.CauseSchedulerStopped:
			return ", paused: the scheduler stopped as it sent (the scheduler resumes it)"
		case core.CauseDailyLimit:
			return ", paused by the daily limit (the scheduler resumes it)"
		}
		return ""
	}
	ld := s.LastDelivery
	if ld == nil {
		return resumes(s.LastCause)
	}
	paused := "paused by the daily limit"
	if s.LastCause == core.CauseSchedulerStopped {
		paused = "paused as the scheduler stopped"
	}
	switch ld.State {
	case core.LastDeliveryResumes:
		if !ld.RetryAt.IsZero() {
			return fmt.Sprintf(", delivery %d %s; the scheduler's resume of it failed, it tries again at %s", ld.ID, paused, a.when(ld.RetryAt))
		}
		return resumes(ld.Cause)
	case core.LastDeliverySending:
		return fmt.Sprintf(", delivery %d %s, being resumed now", ld.ID, paused)
	case core.LastDeliveryDone:
		if ld.Unsent > 0 {
			return fmt.Sprintf(", delivery %d %s, then finished with %d failed or unknown (see 'bluemoon deliveries report %d')", ld.ID, paused, ld.Unsent, ld.ID)
		}
		return fmt.Sprintf(", delivery %d %s, then finished", ld.ID, paused)
	case core.LastDeliveryCancelled:
		return fmt.Sprintf(", delivery %d %s, then cancelled", ld.ID, paused)
	case core.LastDeliveryRemoved:
		return fmt.Sprintf(", delivery %d %s, since removed", ld.ID, paused)
	}
	return fmt.Sprintf(", delivery %d paused: waits for 'bluemoon deliveries resume %d'", ld.ID, ld.ID)
}

func scheduleRemoveCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a schedule",
		Args:  exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			if err := svc.RemoveSchedule(ctx, args[0]); err != nil {
				return err
			}
			app.Printf("removed schedule %s\n", args[0])
			return nil
		}),
	}
}

func schedulePauseCmd(app *App, pause bool) *cobra.Command {
	use, short, done := "resume NAME", "Resume a paused schedule (runs due while paused are not caught up)", "resumed"
	if pause {
		use, short, done = "pause NAME", "Pause a schedule", "paused"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			s, err := svc.PauseSchedule(ctx, args[0], pause)
			if err != nil {
				return err
			}
			app.Printf("schedule %s %s; next %s\n", s.Name, done, app.nextText(s))
			return nil
		}),
	}
}

func scheduleRunCmd(app *App) *cobra.Command {
	var (
		preflight, unattended, scheduled bool
		resume                           int64
		fallback                         alert.Config
		errorFile                        string
		due                              string
	)
	cmd := &cobra.Command{
		Use:   "run NAME [--preflight]",
		Short: "Run a schedule's job now (serve runs each job this way)",
		Long: `Run the job of schedule NAME now, with its alerts: the saved delivery (or with
--preflight only its checks), or the keep-alive. Exit codes as for 'bluemoon run'.
--notify-* flags apply when the schedule has no alert settings of its own.

With --resume-delivery ID instead of NAME: resume delivery ID as serve does
once the daily limit it paused on has reset, or after it stopped with the
scheduler that sent it (after the account's other unattended deliveries;
paused again by the limit, no alert).`,
		Args: func(c *cobra.Command, args []string) error {
			if c.Flags().Changed("resume-delivery") {
				return checkArgs(c, args, 0, 0)
			}
			return checkArgs(c, args, 1, 1)
		},
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			if scheduled {
				// The scheduler stopping reaches its job as SIGTERM too:
				// systemd stops every process of the service, a shutdown
				// every program (Windows: as CTRL_SHUTDOWN_EVENT). Taken
				// as Ctrl-C, a delivery pauses cleanly for the next serve
				// instead of dying mid-send for a person to recover.
				// SIGINT stays caught while the job runs: Ctrl-C to serve
				// in a terminal reaches its job from the terminal and
				// again from serve (childRunner), and the second must not
				// end the job at once ("Ctrl-C again to quit"), leaving
				// the delivery interrupted for a person. serve kills a
				// job that has not ended two minutes later.
				var stop context.CancelFunc
				ctx, stop = signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
				defer stop()
				// And as the end of standard input, a pipe serve holds
				// open while it runs (childRunner): how serve stops its
				// job on Windows, where it has no Ctrl-C to send one, and
				// what a serve that died leaves its job.
				ctx, stop = context.WithCancel(ctx)
				defer stop()
				go func() {
					io.Copy(io.Discard, app.Stdin)
					stop()
				}()
			}
			var err error
			kind := schedule.KindResume
			if len(args) == 0 {
				err = svc.RunResumeJob(ctx, resume, scheduled, fallback, app.sendEvents(unattended))
			} else {
				kind = schedule.KindDelivery // or a keep-alive: the same to QuietEnd
				var at time.Time
				if due != "" {
					if at, err = time.Parse(time.RFC3339Nano, due); err != nil {
						return exitcode.Usagef("--due %q: %w", due, err)
					}
				}
				err = svc.RunScheduleDue(ctx, args[0], preflight, scheduled, at, fallback, app.sendEvents(unattended))
			}
			if err != nil && errorFile != "" {
				// serve says a failure, once, on its own output (this
				// job's lines about it are in the log file already); an
				// end that needs nobody told, the job logged as such.
				// serve keeps on the schedule whether the scheduler goes
				// on with the delivery by itself.
				end := jobEnd{Cause: core.ResumedCause(err), Delivery: core.ResumedDelivery(err)}
				switch quietEnd, left := core.QuietEnd(kind, err), core.LeftForScheduler(err); {
				case quietEnd != "":
					end.Note = oneLine(quietEnd)
				case left != nil:
					// Paused for the scheduler to go on with: not a
					// failure for serve to say; the job's own line
					// (on serve's output too) says what comes next.
					var oe *core.OutcomeError
					errors.As(err, &oe)
					end.Note = oneLine(fmt.Sprintf("delivery %d %s", oe.Outcome.ID, left.Sentence()))
				default:
					end.Error = oneLine(err.Error())
				}
				if werr := writeJobEnd(errorFile, end); werr == nil || end.Error == "" {
					return exitWith(exitcode.For(err))
				}
			}
			return quiet(err)
		}),
	}
	cmd.Flags().BoolVar(&preflight, "preflight", false, "only check that the delivery would work")
	cmd.Flags().Int64Var(&resume, "resume-delivery", 0, "resume this delivery, paused by a daily limit or stopped with the scheduler, as serve does (instead of NAME)")
	// Given by serve to its children only: serve's stopping (SIGTERM,
	// shutdown) is what stops them, and a delivery they send then is the
	// next serve's to resume. A person's Ctrl-C of `schedule run` waits
	// for them, as `send`'s does.
	cmd.Flags().BoolVar(&scheduled, "scheduled", false, "run as serve's job: a delivery stopped with serve is resumed by the next serve")
	cmd.Flags().MarkHidden("scheduled")
	cmd.Flags().StringVar(&errorFile, "error-file", "", "write the job's error there instead of to stderr (serve shows it)")
	cmd.Flags().MarkHidden("error-file")
	// Given by serve too: the occurrence the run is for, recorded on the
	// schedule if serve's stop ends the run before its delivery is stored.
	cmd.Flags().StringVar(&due, "due", "", "the occurrence (RFC 3339) this run is for (serve's job)")
	cmd.Flags().MarkHidden("due")
	addUnattendedFlag(cmd, &unattended)
	addNotifyFlags(cmd, &fallback)
	return cmd
}

// jobEnd is what a job serve runs (schedule run --error-file) leaves it
// in that file: its error for serve to say ("" when it needs nobody
// told), and the cause its delivery paused for when the scheduler resumes
// it by itself (core.ResumedCause).
type jobEnd struct {
	Error string `json:"error,omitempty"`
	// Note: instead of Error, for an end that needs nobody told (the
	// scheduler goes on with its delivery): what serve records and logs
	// as the job's result instead of its bare exit status.
	Note     string `json:"note,omitempty"`
	Cause    string `json:"cause,omitempty"`
	Delivery int64  `json:"delivery,omitempty"` // with Cause: which delivery (schedule.Result.Delivery)
}

func writeJobEnd(file string, end jobEnd) error {
	raw, err := json.Marshal(end)
	if err != nil {
		return err
	}
	return os.WriteFile(file, raw, 0o600)
}

// readJobEnd reads what writeJobEnd left in file (nothing: the zero
// jobEnd).
func readJobEnd(file string) jobEnd {
	var end jobEnd
	raw, err := os.ReadFile(file)
	if err != nil || len(strings.TrimSpace(string(raw))) == 0 {
		return end
	}
	if json.Unmarshal(raw, &end) != nil {
		end = jobEnd{Error: strings.TrimSpace(string(raw))}
	}
	return end
}

// oneLine is s on one line, its credentials masked: a line of serve's
// output.
func oneLine(s string) string {
	return strings.Join(strings.Fields(redact.String(s)), " ")
}
