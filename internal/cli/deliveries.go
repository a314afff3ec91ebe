package cli

import (
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

type dbHandle = *sql.DB

func init() { register(deliveriesCmd) }

func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, exitcode.Usagef("%q is not a delivery ID (see 'bluemoon deliveries list')", s)
	}
	return id, nil
}

// deliveryArg is the delivery ID argument and the database it is in.
func (app *App) deliveryArg(ctx context.Context, arg string) (int64, *store.DB, error) {
	id, err := parseID(arg)
	if err != nil {
		return 0, nil, err
	}
	db, err := app.DB(ctx)
	return id, db, err
}

func deliveriesCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "deliveries", Short: "List, inspect, pause, resume, cancel and report deliveries"}
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "List deliveries, newest first", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := app.DB(cmd.Context())
			if err != nil {
				return err
			}
			ds, err := delivery.List(cmd.Context(), db.DB)
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
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var showJSON bool
	show := &cobra.Command{
		Use: "show ID", Short: "Show one delivery and its counts", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, db, err := app.deliveryArg(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			d, err := delivery.Get(cmd.Context(), db.DB, id)
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
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	pause := app.controlCmd("pause ID", "Pause a delivery (a running one stops after the messages in flight)",
		delivery.RequestPause, "Asked the running delivery %d to pause; it stops after the messages in flight.\n", "Delivery %d paused.\n")
	cancel := app.controlCmd("cancel ID", "Cancel a delivery: recipients not yet sent are never sent",
		delivery.RequestCancel, "Asked the running delivery %d to cancel.\n", "Delivery %d cancelled.\n")
	var resendUnknown, unattended, noChunking bool
	var dailyWait time.Duration
	resume := &cobra.Command{
		Use:   "resume ID",
		Short: "Go on with a paused or interrupted delivery",
		Long: `Goes on with a delivery that was paused, stopped by Ctrl-C, by the daily limit or a needed
sign-in, or killed. Recipients whose message was with the server when the program died become
'unknown' (they may or may not have received it) and are listed; they are sent again only with
--resend-unknown. Nothing else is sent twice and nothing is skipped.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, db, err := app.deliveryArg(ctx, args[0])
			if err != nil {
				return err
			}
			d, err := delivery.Get(ctx, db.DB, id)
			if err != nil {
				return err
			}
			acct, err := (&account.Store{DB: db.DB}).Get(ctx, d.Account)
			if err != nil {
				return exitcode.Usagef("%w", err)
			}
			fl, err := app.lockDelivery(id)
			if err != nil {
				return err
			}
			rec, err := delivery.Recover(ctx, db.DB, id, resendUnknown)
			fl.Unlock()
			if err != nil {
				return err
			}
			if n := len(rec.Unknown); n > 0 {
				app.Warnf("%d recipient(s) are unknown: their message was with the server when bluemoon stopped, so they may or may not have it:\n", n)
				for _, u := range rec.Unknown {
					app.Warnf("  row %d  %s\n", u.Row, u.Email)
				}
				if rec.Resent {
					app.Warnf("Sending them again (--resend-unknown).\n")
				} else {
					app.Warnf("They are not sent again; add --resend-unknown to send them again.\n")
				}
			}
			dial, err := app.deliveryDialer(ctx, acct, unattended, noChunking || d.NoChunking)
			if err != nil {
				return err
			}
			return app.runDelivery(ctx, db.DB, acct, accountLimits(acct), id, dial, dailyWait)
		},
	}
	resume.Flags().BoolVar(&resendUnknown, "resend-unknown", false, "send again to the recipients whose outcome is unknown")
	resume.Flags().BoolVar(&unattended, "unattended", false, "never prompt or open a browser")
	addDailyWait(resume, &dailyWait)
	resume.Flags().BoolVar(&noChunking, "no-chunking", false, "never use BDAT (CHUNKING), only DATA, for this run (a delivery sent with --no-chunking keeps it anyway)")
	var repCSV, repJSON bool
	report := &cobra.Command{
		Use: "report ID", Short: "Every recipient's outcome (row, address, state, attempts, server reply)", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, db, err := app.deliveryArg(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if _, err := delivery.Get(cmd.Context(), db.DB, id); err != nil {
				return err
			}
			switch {
			case repCSV:
				w := csv.NewWriter(app.Stdout)
				w.Write([]string{"row", "email", "state", "attempts", "reply", "time", "next_try"})
				err = delivery.Report(cmd.Context(), db.DB, id, func(o delivery.Outcomes) error {
					return w.Write([]string{strconv.Itoa(o.Row), o.Email, o.State, strconv.Itoa(o.Attempts), o.Reply, fmtTime(o.At), fmtTime(o.NextTry)})
				})
				w.Flush()
				if err == nil {
					err = w.Error()
				}
				return err
			case repJSON:
				// One JSON array, written as it is read: a big report is not held in memory.
				app.Printf("[")
				first := true
				err = delivery.Report(cmd.Context(), db.DB, id, func(o delivery.Outcomes) error {
					b, err := json.Marshal(o)
					if err != nil {
						return err
					}
					if !first {
						app.Printf(",")
					}
					first = false
					app.Printf("\n  %s", b)
					return nil
				})
				app.Printf("\n]\n")
				return err
			}
			tw := tabwriter.NewWriter(app.Stdout, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ROW\tEMAIL\tSTATE\tATTEMPTS\tREPLY")
			err = delivery.Report(cmd.Context(), db.DB, id, func(o delivery.Outcomes) error {
				_, err := fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", o.Row, o.Email, o.State, o.Attempts, o.Reply)
				return err
			})
			tw.Flush()
			return err
		},
	}
	report.Flags().BoolVar(&repCSV, "csv", false, "print CSV")
	report.Flags().BoolVar(&repJSON, "json", false, "print JSON")
	cmd.AddCommand(list, show, pause, resume, cancel, report,
		deliveriesSaveCmd(app), deliveriesSavedCmd(app)) // saved.go
	return cmd
}

// controlCmd is 'deliveries pause' or 'cancel': request asks a running
// delivery to stop that way (it polls), or does it at once to one that is
// not running.
func (app *App) controlCmd(use, short string, request func(context.Context, *sql.DB, int64) (bool, error), askedMsg, doneMsg string) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			id, db, err := app.deliveryArg(ctx, args[0])
			if err != nil {
				return err
			}
			running, err := request(ctx, db.DB, id)
			if err != nil {
				return err
			}
			if !running {
				app.Printf(doneMsg, id)
				return nil
			}
			// 'running' but nobody holds its run lock: the process that ran
			// it died. Recovering it now applies the request (a cancel is
			// honoured; a pause leaves it paused) instead of leaving it for
			// a runner that will never poll.
			if fl, ok, err := app.tryLock(fmt.Sprintf("delivery-%d.lock", id)); err == nil && ok {
				defer fl.Unlock()
				if _, err := delivery.Recover(ctx, db.DB, id, false); err != nil {
					return err
				}
				app.Printf(doneMsg, id)
				return nil
			}
			app.Printf(askedMsg, id)
			return nil
		},
	}
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
