package cli

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

func init() { register(scheduleCmd) }

func scheduleCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Timed deliveries and keep-alives, run by 'bluemoon serve'",
		Long: `Schedules are kept in the data home and run by 'bluemoon serve' (or by
'bluemoon serve --once' from a minutely cron job or timer; see 'schedule install').`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(scheduleAddCmd(app), scheduleKeepaliveCmd(app), scheduleListCmd(app),
		scheduleRemoveCmd(app), schedulePauseCmd(app, true), schedulePauseCmd(app, false),
		scheduleRunCmd(app), scheduleInstallCmd(app))
	return cmd
}

// whenFlags are the timing flags shared by `schedule add` and `schedule keepalive`.
type whenFlags struct {
	cron, at, tz, missed string
	notify               alert.Config
}

func (w *whenFlags) add(cmd *cobra.Command, defCron, defMissed string) {
	f := cmd.Flags()
	f.StringVar(&w.cron, "cron", defCron, `cron expression in --tz: "minute hour day month weekday" (e.g. "0 9 * * 1-5"), or @daily, @hourly, @every 6h`)
	if defCron == "" {
		f.StringVar(&w.at, "at", "", `one-off time: "2026-12-01 09:00" (in --tz) or RFC 3339`)
	}
	f.StringVar(&w.tz, "tz", "Local", "time zone of --cron and --at (IANA name: Asia/Tokyo, UTC, Europe/London…)")
	f.StringVar(&w.missed, "missed", defMissed, "a run missed while serve was down: run-once (at start-up) or skip (and alert)")
	addNotifyFlags(cmd, &w.notify)
}

func (w *whenFlags) fill(s *schedule.Schedule, now time.Time) error {
	s.Cron, s.TZ, s.Missed, s.Alert = w.cron, w.tz, schedule.Missed(w.missed), w.notify
	if w.at != "" {
		loc, err := schedule.LoadLocation(w.tz)
		if err != nil {
			return err
		}
		if s.At, err = schedule.ParseAt(w.at, loc); err != nil {
			return err
		}
		if !s.At.After(now) {
			return fmt.Errorf("--at %s is in the past", w.at)
		}
	}
	return nil
}

func scheduleAddCmd(app *App) *cobra.Command {
	var (
		w         whenFlags
		run       string
		preflight time.Duration
	)
	cmd := &cobra.Command{
		Use:   `add NAME --run SAVED_DELIVERY (--cron "EXPR" | --at TIME) [--tz ZONE]`,
		Short: "Schedule a saved delivery",
		Long: `Schedule the saved delivery given by --run. A preflight (--preflight, default
24h before each run; 0 turns it off) checks the list, the template, the
sign-in and the SMTP login, and raises an alert at once when something would
fail, while there is still time to fix it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			db, err := app.DB(ctx)
			if err != nil {
				return err
			}
			if run == "" {
				return exitcode.Usagef("--run SAVED_DELIVERY is required (see 'bluemoon deliveries saved')")
			}
			if _, err := (&saved.Store{DB: db.DB}).Get(ctx, run); err != nil {
				if errors.Is(err, saved.ErrNotFound) {
					return &exitcode.UsageError{Err: fmt.Errorf("--run: %w", err)}
				}
				return err
			}
			return app.addSchedule(cmd, &w, &schedule.Schedule{Name: args[0], Kind: schedule.KindDelivery, Target: run, Preflight: preflight})
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "saved delivery to run")
	cmd.Flags().DurationVar(&preflight, "preflight", schedule.DefaultPreflight, "how long before each run to check that it will work (0: no preflight)")
	w.add(cmd, "", string(schedule.MissedSkip))
	return cmd
}

func scheduleKeepaliveCmd(app *App) *cobra.Command {
	var (
		w        whenFlags
		name     string
		sendTest bool
	)
	cmd := &cobra.Command{
		Use:   "keepalive ACCOUNT [--cron EXPR] [--send-test]",
		Short: "Refresh an account's sign-in on a schedule (default daily)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if _, err := app.account(ctx, args[0]); err != nil {
				return err
			}
			if name == "" {
				name = "keepalive-" + args[0]
			}
			return app.addSchedule(cmd, &w, &schedule.Schedule{Name: name, Kind: schedule.KindKeepAlive, Target: args[0], SendTest: sendTest})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "schedule name (default keepalive-ACCOUNT)")
	cmd.Flags().BoolVar(&sendTest, "send-test", false, "also send a test message to the account itself")
	w.add(cmd, schedule.DefaultKeepAliveCron, string(schedule.MissedRunOnce))
	return cmd
}

// addSchedule completes s from the --cron/--at/--tz/--missed/--notify flags
// and stores it.
func (a *App) addSchedule(cmd *cobra.Command, w *whenFlags, s *schedule.Schedule) error {
	db, err := a.DB(cmd.Context())
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	s.CreatedAt = now
	if err := w.fill(s, now); err != nil {
		return &exitcode.UsageError{Err: err}
	}
	if err := s.Validate(); err != nil {
		return &exitcode.UsageError{Err: err}
	}
	if err := a.checkAlert(cmd.Context(), s.Alert); err != nil {
		return err
	}
	if err := (&schedule.Store{DB: db.DB}).Add(cmd.Context(), s); err != nil {
		if errors.Is(err, schedule.ErrExists) {
			return &exitcode.UsageError{Err: err}
		}
		return err
	}
	a.Printf("added schedule %s: %s %s, next %s\n", s.Name, s.Kind, s.Target, nextText(s, time.Now()))
	a.Printf("schedules run while 'bluemoon serve' runs (see 'bluemoon schedule install')\n")
	return nil
}

// nextText is the next run in the schedule's zone, or why there is none.
func nextText(s *schedule.Schedule, now time.Time) string {
	if s.Paused {
		return "paused"
	}
	base := now
	if !s.LastDue.IsZero() && s.LastDue.After(base) {
		base = s.LastDue
	}
	n, err := s.Next(base)
	if err != nil {
		return "error: " + err.Error()
	}
	if n.IsZero() {
		return "done"
	}
	loc, err := s.Location()
	if err != nil {
		loc = time.UTC
	}
	return n.In(loc).Format("2006-01-02 15:04 MST")
}

type scheduleView struct {
	*schedule.Schedule
	Next string `json:"next"`
}

func scheduleListCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List schedules with their next run and last result",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := app.DB(cmd.Context())
			if err != nil {
				return err
			}
			list, err := (&schedule.Store{DB: db.DB}).List(cmd.Context())
			if err != nil {
				return err
			}
			now := time.Now()
			if asJSON {
				views := []scheduleView{}
				for _, s := range list {
					views = append(views, scheduleView{Schedule: s, Next: nextText(s, now)})
				}
				return app.PrintJSON(views)
			}
			if len(list) == 0 {
				app.Printf("no schedules (see 'bluemoon schedule add --help')\n")
				return nil
			}
			tw := tabwriter.NewWriter(app.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tKIND\tRUNS\tWHEN\tZONE\tNEXT\tLAST")
			for _, s := range list {
				when := s.Cron
				if when == "" {
					loc, err := s.Location()
					if err != nil {
						loc = time.UTC
					}
					when = "at " + s.At.In(loc).Format("2006-01-02 15:04")
				}
				last := "-"
				if !s.LastRunAt.IsZero() {
					last = fmt.Sprintf("%s exit %d", s.LastRunAt.Local().Format("2006-01-02 15:04"), s.LastExit)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, s.Kind, s.Target, when, s.TZ, nextText(s, now), last)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func scheduleRemoveCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a schedule",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := app.DB(cmd.Context())
			if err != nil {
				return err
			}
			if err := (&schedule.Store{DB: db.DB}).Remove(cmd.Context(), args[0]); err != nil {
				return usageIfNotFound(err, schedule.ErrNotFound)
			}
			app.Printf("removed schedule %s\n", args[0])
			return nil
		},
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
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := app.DB(cmd.Context())
			if err != nil {
				return err
			}
			s, err := (&schedule.Store{DB: db.DB}).SetPaused(cmd.Context(), args[0], pause, time.Now().UTC())
			if err != nil {
				return usageIfNotFound(err, schedule.ErrNotFound)
			}
			app.Printf("schedule %s %s; next %s\n", s.Name, done, nextText(s, time.Now()))
			return nil
		},
	}
}

func scheduleRunCmd(app *App) *cobra.Command {
	var (
		preflight, unattended bool
		fallback              alert.Config
	)
	cmd := &cobra.Command{
		Use:   "run NAME [--preflight]",
		Short: "Run a schedule's job now (serve runs each job this way)",
		Long: `Run the job of schedule NAME now, with its alerts: the saved delivery (or with
--preflight only its checks), or the keep-alive. Exit codes as for 'bluemoon run'.
--notify-* flags apply when the schedule has no alert settings of its own.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := app.DB(cmd.Context())
			if err != nil {
				return err
			}
			s, err := (&schedule.Store{DB: db.DB}).Get(cmd.Context(), args[0])
			if err != nil {
				return usageIfNotFound(err, schedule.ErrNotFound)
			}
			if err := app.checkAlert(cmd.Context(), fallback); err != nil {
				return err
			}
			cfg := s.Alert
			if cfg.IsZero() {
				cfg = fallback
			}
			return app.runJob(cmd.Context(), job{
				Schedule: s.Name, Kind: s.Kind, Target: s.Target, SendTest: s.SendTest,
				Preflight: preflight && s.Kind == schedule.KindDelivery, Alert: cfg,
				Unattended: app.unattended(unattended),
			})
		},
	}
	cmd.Flags().BoolVar(&preflight, "preflight", false, "only check that the delivery would work")
	addUnattendedFlag(cmd, &unattended)
	addNotifyFlags(cmd, &fallback)
	return cmd
}
