package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

func init() { register(deliveriesCmd) }

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, exitcode.Usagef("%q is not a delivery ID (see 'bluemoon deliveries list')", s)
	}
	return id, nil
}

// withID makes the RunE of a command whose argument is a delivery ID.
func (a *App) withID(fn func(ctx context.Context, svc *core.Service, id int64) error) func(*cobra.Command, []string) error {
	return a.run(func(ctx context.Context, svc *core.Service, args []string) error {
		id, err := parseID(args[0])
		if err != nil {
			return err
		}
		return fn(ctx, svc, id)
	})
}

func deliveriesCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "deliveries", Short: "List, inspect, pause, resume, cancel and report deliveries"}
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List deliveries, newest first", Args: cobra.NoArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			ds, err := svc.Deliveries(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				return app.PrintJSON(ds)
			}
			tw := tabwriter.NewWriter(app.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tACCOUNT\tSTATUS\tSENT\tFAILED\tLEFT\tCREATED")
			for _, d := range ds {
				c := d.Counts
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", d.ID, d.Name, d.Account, d.Status, c.Sent, c.Failed,
					c.Pending+c.Deferred+c.Unknown+c.Sending, d.CreatedAt.Local().Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		}),
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var showJSON bool
	show := &cobra.Command{
		Use: "show ID", Short: "Show one delivery and its counts", Args: cobra.ExactArgs(1),
		RunE: app.withID(func(ctx context.Context, svc *core.Service, id int64) error {
			d, err := svc.Delivery(ctx, id)
			if err != nil {
				return err
			}
			if showJSON {
				return app.PrintJSON(d)
			}
			c := d.Counts
			app.Printf("Delivery %d: %s\nAccount:  %s\nStatus:   %s\n", d.ID, d.Name, d.Account, d.Status)
			if d.Reason != "" {
				app.Printf("Reason:   %s\n", d.Reason)
			}
			if !d.ResumeAfter.IsZero() {
				app.Printf("Can go on after: %s\n", d.ResumeAfter.Local().Format(time.DateTime))
			}
			app.Printf("List:     %s (%d rows, %d duplicates dropped)\nSubject:  %s\n", d.Source, d.Rows, d.Duplicates, d.Subject)
			app.Printf("Sent %d, failed %d, deferred %d, pending %d, sending %d, unknown %d, skipped %d, suppressed %d, cancelled %d\n",
				c.Sent, c.Failed, c.Deferred, c.Pending, c.Sending, c.Unknown, c.Skipped, c.Suppressed, c.Cancelled)
			if d.Status == delivery.StatusInterrupted || d.Status == delivery.StatusPaused {
				app.Printf("Go on with 'bluemoon deliveries resume %d'.\n", d.ID)
			}
			return nil
		}),
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	pause := app.controlCmd("pause ID", "Pause a delivery (a running one stops after the messages in flight)",
		(*core.Service).PauseDelivery, "Asked the running delivery %d to pause; it stops after the messages in flight.\n", "Delivery %d paused.\n")
	cancel := app.controlCmd("cancel ID", "Cancel a delivery: recipients not yet sent are never sent",
		(*core.Service).CancelDelivery, "Asked the running delivery %d to cancel.\n", "Delivery %d cancelled.\n")
	cmd.AddCommand(list, show, pause, resumeCmd(app), cancel, reportCmd(app),
		deliveriesSaveCmd(app), deliveriesSavedCmd(app)) // saved.go
	return cmd
}

func resumeCmd(app *App) *cobra.Command {
	var in core.ResumeInput
	var unattended bool
	resume := &cobra.Command{
		Use:   "resume ID",
		Short: "Go on with a paused or interrupted delivery",
		Long: `Goes on with a delivery that was paused, stopped by Ctrl-C, by the daily limit or a needed
sign-in, or killed. Recipients whose message was with the server when the program died become
'unknown' (they may or may not have received it) and are listed; they are sent again only with
--resend-unknown. Nothing else is sent twice and nothing is skipped.`,
		Args: cobra.ExactArgs(1),
		RunE: app.withID(func(ctx context.Context, svc *core.Service, id int64) error {
			_, err := svc.Resume(ctx, id, in, app.sendEvents(unattended))
			return quiet(err)
		}),
	}
	resume.Flags().BoolVar(&in.ResendUnknown, "resend-unknown", false, "send again to the recipients whose outcome is unknown")
	resume.Flags().BoolVar(&unattended, "unattended", false, "never prompt or open a browser")
	core.BindDailyWait(resume.Flags(), &in.DailyWait)
	resume.Flags().BoolVar(&in.NoChunking, "no-chunking", false, "never use BDAT (CHUNKING), only DATA, for this run (a delivery sent with --no-chunking keeps it anyway)")
	return resume
}

func reportCmd(app *App) *cobra.Command {
	var repCSV, repJSON bool
	report := &cobra.Command{
		Use: "report ID", Short: "Every recipient's outcome (row, address, state, attempts, server reply)", Args: cobra.ExactArgs(1),
		RunE: app.withID(func(ctx context.Context, svc *core.Service, id int64) error {
			switch {
			case repCSV:
				w := csv.NewWriter(app.Stdout)
				w.Write([]string{"row", "email", "state", "attempts", "reply", "time", "next_try", "via"})
				err := svc.Report(ctx, id, func(o delivery.Outcomes) error {
					return w.Write([]string{strconv.Itoa(o.Row), o.Email, o.State, strconv.Itoa(o.Attempts), o.Reply, fmtTime(o.At), fmtTime(o.NextTry), o.Via})
				})
				w.Flush()
				if err == nil {
					err = w.Error()
				}
				return err
			case repJSON:
				// One JSON array, written as it is read: a big report is not held in memory.
				first := true
				err := svc.Report(ctx, id, func(o delivery.Outcomes) error {
					b, err := json.Marshal(o)
					if err != nil {
						return err
					}
					if first {
						app.Printf("[")
					} else {
						app.Printf(",")
					}
					first = false
					app.Printf("\n  %s", b)
					return nil
				})
				if err != nil && first {
					return err
				}
				if first {
					app.Printf("[")
				}
				app.Printf("\n]\n")
				return err
			}
			tw := tabwriter.NewWriter(app.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ROW\tEMAIL\tSTATE\tATTEMPTS\tREPLY")
			err := svc.Report(ctx, id, func(o delivery.Outcomes) error {
				_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", o.Row, o.Email, o.State, o.Attempts, o.Reply)
				return err
			})
			tw.Flush()
			return err
		}),
	}
	report.Flags().BoolVar(&repCSV, "csv", false, "print CSV")
	report.Flags().BoolVar(&repJSON, "json", false, "print JSON")
	return report
}

// controlCmd is 'deliveries pause' or 'cancel'.
func (a *App) controlCmd(use, short string, control func(*core.Service, context.Context, int64) (*core.ControlResult, error), askedMsg, doneMsg string) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: a.withID(func(ctx context.Context, svc *core.Service, id int64) error {
			res, err := control(svc, ctx, id)
			if err != nil {
				return err
			}
			if res.Asked {
				a.Printf(askedMsg, id)
			} else {
				a.Printf(doneMsg, id)
			}
			return nil
		}),
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
