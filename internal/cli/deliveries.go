package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

func init() { register(deliveriesCmd) }

// withID makes the RunE of a command whose argument is a delivery, by
// its ID or its name.
func (a *App) withID(fn func(ctx context.Context, svc *core.Service, id int64) error) func(*cobra.Command, []string) error {
	return a.run(func(ctx context.Context, svc *core.Service, args []string) error {
		id, err := svc.FindDelivery(ctx, args[0])
		if err != nil {
			return err
		}
		return fn(ctx, svc, id)
	})
}

func deliveriesCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "deliveries", Short: "List, inspect, pause, resume, cancel and report deliveries",
		Long: `List, inspect, pause, resume, cancel and report deliveries. A DELIVERY is
named by its ID or by its name (send --name, or the list's file and the
time); a name several deliveries share is refused with their IDs.`}
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List deliveries, newest first", Args: noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			ds, err := svc.Deliveries(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return app.PrintJSON(ds)
			}
			// The scheduler's own due test, as 'deliveries show' asks it.
			auto, err := svc.SchedulerResumes(ctx)
			if err != nil {
				return err
			}
			tw := newTable(app.Stdout, "ID", "NAME", "ACCOUNT", "STATUS", "SENT", "FAILED", "LEFT", "CREATED")
			for _, d := range ds {
				c := d.Counts
				status := d.Status
				switch r := auto[d.ID]; {
				case r == nil:
				case r.Retrying:
					status += " (the scheduler retries its resume at " + app.when(r.At) + ")"
				default:
					// Whether a scheduler runs now is not known here:
					// which one resumes it, and when, 'deliveries show'
					// says.
					status += " (the scheduler resumes it)"
				}
				tw.Row(d.ID, d.Name, d.Account, status, c.Sent, c.Failed,
					c.Pending+c.Deferred+c.Unknown+c.Sending, app.when(d.CreatedAt))
			}
			return tw.Flush()
		}),
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var showJSON bool
	show := &cobra.Command{
		Use: "show DELIVERY", Short: "Show one delivery and its counts", Args: exactArgs(1),
		RunE: app.withID(func(ctx context.Context, svc *core.Service, id int64) error {
			d, err := svc.Delivery(ctx, id)
			if err != nil {
				return err
			}
			// What the scheduler's resume itself tests, not a copy.
			auto, err := svc.SchedulerResumeOf(ctx, d.ID)
			if err != nil {
				return err
			}
			if showJSON {
				return app.PrintJSON(deliveryView{Summary: d, Scheduler: auto})
			}
			c := d.Counts
			app.Printf("Delivery %d: %s\nAccount:  %s\nStatus:   %s\n", d.ID, d.Name, d.Account, d.Status)
			if d.Reason != "" {
				app.Printf("Reason:   %s\n", d.Reason)
			}
			if !d.ResumeAfter.IsZero() {
				app.Printf("Can go on after: %s\n", app.when(d.ResumeAfter))
				switch {
				case auto == nil:
				case auto.Retrying:
					app.Printf("The scheduler's resume of it has failed since %s for a reason that may pass (the network, the mail server): it tries again at %s, and if it still fails at %s it stops trying and alerts ('bluemoon deliveries pause %d' keeps it waiting for you).\n",
						app.when(auto.FailingSince), app.when(auto.At), app.when(auto.GiveUpAt), d.ID)
				case d.Cause == delivery.CauseSchedulerStopped:
					app.Printf("It stopped with the scheduler sending it: bluemoon serve (or the console's scheduler) resumes it by itself when it runs next ('bluemoon deliveries pause %d' keeps it waiting for you).\n", d.ID)
				default:
					app.Printf("bluemoon serve, if it runs then, resumes it by itself ('bluemoon deliveries pause %d' keeps it waiting for you).\n", d.ID)
				}
			}
			app.Printf("List:     %s (%d rows, %d duplicates dropped)\nSubject:  %s\n", d.Source, d.Rows, d.Duplicates, d.Subject)
			app.Printf("Sent %d, failed %d, deferred %d, pending %d, sending %d, unknown %d, skipped %d, suppressed %d, cancelled %d\n",
				c.Sent, c.Failed, c.Deferred, c.Pending, c.Sending, c.Unknown, c.Skipped, c.Suppressed, c.Cancelled)
			switch {
			case auto != nil:
				// The scheduler goes on with it: resuming is a person's
				// choice, not the next step.
				app.Printf("To go on yourself instead: 'bluemoon deliveries resume %d'.\n", d.ID)
			case d.Status == delivery.StatusInterrupted || d.Status == delivery.StatusPaused:
				app.Printf("Go on with 'bluemoon deliveries resume %d'.\n", d.ID)
			}
			return nil
		}),
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	pause := app.controlCmd("pause DELIVERY", "Pause a delivery (a running one stops after the messages in flight)",
		(*core.Service).PauseDelivery, "Asked the running delivery %d to pause; it stops after the messages in flight.\n", "Delivery %d paused.\n", "Delivery %d is already paused.\n")
	cancel := app.controlCmd("cancel DELIVERY", "Cancel a delivery: recipients not yet sent are never sent",
		(*core.Service).CancelDelivery, "Asked the running delivery %d to cancel.\n", "Delivery %d cancelled.\n", "Delivery %d is already cancelled.\n")
	cmd.AddCommand(list, show, pause, resumeCmd(app), cancel, reportCmd(app),
		deliveriesSaveCmd(app), deliveriesSavedCmd(app)) // saved.go
	return cmd
}

// deliveryView is `deliveries show --json`: the delivery, and how the
// scheduler goes on with it by itself (omitted when a person must), as the
// text output says it.
type deliveryView struct {
	*delivery.Summary
	Scheduler *core.SchedulerResume `json:"scheduler,omitempty"`
}

func resumeCmd(app *App) *cobra.Command {
	var in core.ResumeInput
	var unattended bool
	resume := &cobra.Command{
		Use:   "resume DELIVERY",
		Short: "Go on with a paused or interrupted delivery",
		Long: `Goes on with a delivery that was paused, stopped by Ctrl-C, by the daily limit or a needed
sign-in, or killed. Recipients whose message was with the server when the program died become
'unknown' (they may or may not have received it) and are listed; they are sent again only with
--resend-unknown. Nothing else is sent twice and nothing is skipped.`,
		Args: exactArgs(1),
		RunE: app.withID(func(ctx context.Context, svc *core.Service, id int64) error {
			_, err := svc.Resume(ctx, id, in, app.sendEvents(unattended))
			return quiet(err)
		}),
	}
	resume.Flags().BoolVar(&in.ResendUnknown, "resend-unknown", false, "send again to the recipients whose outcome is unknown")
	resume.Flags().BoolVar(&in.ResendFailed, "resend-failed", false, "send again to the recipients the server refused (once the cause is fixed)")
	resume.Flags().BoolVar(&unattended, "unattended", false, "never prompt or open a browser")
	core.BindDailyWait(resume.Flags(), &in.DailyWait)
	resume.Flags().BoolVar(&in.NoChunking, "no-chunking", false, "never use BDAT (CHUNKING), only DATA, for this run (a delivery sent with --no-chunking keeps it anyway)")
	return resume
}

func reportCmd(app *App) *cobra.Command {
	var repCSV, repJSON bool
	report := &cobra.Command{
		Use: "report DELIVERY", Short: "Every recipient's outcome (row, address, state, attempts, server reply)", Args: exactArgs(1),
		RunE: app.withID(func(ctx context.Context, svc *core.Service, id int64) error {
			switch {
			case repCSV && repJSON:
				return exitcode.Usagef("give --csv or --json, not both")
			case repCSV:
				return svc.ReportCSV(ctx, id, app.Stdout)
			case repJSON:
				return svc.ReportJSON(ctx, id, app.Stdout)
			}
			tw := newTable(app.Stdout, "ROW", "EMAIL", "STATE", "ATTEMPTS", "REPLY")
			err := svc.Report(ctx, id, func(o delivery.Outcomes) error {
				tw.Row(o.Row, o.Email, o.State, o.Attempts, o.Reply)
				return nil
			})
			if err != nil {
				return err
			}
			return tw.Flush()
		}),
	}
	report.Flags().BoolVar(&repCSV, "csv", false, "print CSV")
	report.Flags().BoolVar(&repJSON, "json", false, "print JSON")
	return report
}

// controlCmd is 'deliveries pause' or 'cancel'.
func (a *App) controlCmd(use, short string, control func(*core.Service, context.Context, int64) (*core.ControlResult, error), askedMsg, doneMsg, alreadyMsg string) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: exactArgs(1),
		RunE: a.withID(func(ctx context.Context, svc *core.Service, id int64) error {
			res, err := control(svc, ctx, id)
			if err != nil {
				return err
			}
			switch {
			case res.Already:
				a.Printf(alreadyMsg, id)
			case res.Asked:
				a.Printf(askedMsg, id)
			default:
				a.Printf(doneMsg, id)
			}
			return nil
		}),
	}
}
