package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

func init() { register(sendCmd) }

func sendCmd(app *App) *cobra.Command {
	var in core.SendInput
	var unattended bool
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Send a personalised message to every recipient of a list",
		Long: `Checks everything first (every row, address and message, attachments and their size, and
that the account can sign in), reports all problems at once with their row numbers, then sends
within the account's limits, recording every recipient's outcome.

Exit codes: 0 every recipient sent (rows left out by --skip-invalid are reported, not counted
as failures); 3 finished with failures; 4 sign-in needed; 5 paused (Ctrl-C, 'deliveries pause',
daily limit); 2 bad input.`,
		Args: noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			_, err := svc.Send(ctx, in, app.sendEvents(unattended))
			return quiet(err)
		}),
	}
	core.BindSendFlags(cmd.Flags(), &in)
	cmd.Flags().BoolVar(&unattended, "unattended", false, "never prompt or open a browser (cron, Task Scheduler)")
	return cmd
}

// sendPrinter shows a delivery's steps as send, resume and run print
// them: the preflight and sign-in on stderr, the delivery number, the
// outcome and what to do next on stdout, a progress bar on a terminal's
// stderr (else a log line every 10 seconds).
type sendPrinter struct {
	app  *App
	tty  bool
	last time.Time
	drew bool
}

// sendEvents are the delivery events printed as the CLI does.
func (a *App) sendEvents(unattended bool) core.SendEvents {
	p := &sendPrinter{app: a}
	if f, ok := a.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return core.SendEvents{
		Preflight: p.preflight,
		SignedIn: func(account, server string) {
			a.Warnf("Account %s signed in to %s.\n", account, server)
		},
		Started: func(id int64, ready int) {
			a.Printf("Delivery %d: %d recipient(s) to send to.\n", id, ready)
		},
		Recovered: p.recovered,
		Progress:  p.progress,
		Done:      p.done,
		SignIn:    a.signInHandler(unattended),
	}
}

func (p *sendPrinter) preflight(pf *delivery.Preflight) {
	p.app.Warnf("Checked %d row(s) (%s): %d to send, %d duplicate(s) dropped, %d suppressed, %d with problems; largest message %d bytes.\n",
		pf.Rows, pf.Encoding, pf.Ready, pf.Duplicates, pf.Suppressed, pf.ProblemCount, pf.LargestBytes)
	for _, pr := range pf.Problems {
		p.app.Warnf("  %s\n", pr)
	}
	if pf.ProblemCount > len(pf.Problems) {
		p.app.Warnf("  … and %d more\n", pf.ProblemCount-len(pf.Problems))
	}
	for _, n := range pf.Notes {
		p.app.Warnf("  note: %s\n", n)
	}
	if pf.UTF8Fallbacks > len(pf.Notes) {
		p.app.Warnf("  … and %d more message(s) go as UTF-8\n", pf.UTF8Fallbacks-len(pf.Notes))
	}
}

func (p *sendPrinter) recovered(rec *delivery.Recovery) {
	a := p.app
	n := len(rec.Unknown)
	if n == 0 {
		return
	}
	a.Warnf("%d recipient(s) are unknown: their message was with the server when bluemoon stopped, so they may or may not have it:\n", n)
	for _, u := range rec.Unknown {
		a.Warnf("  row %d  %s\n", u.Row, u.Email)
	}
	if rec.Resent {
		a.Warnf("Sending them again (--resend-unknown).\n")
	} else {
		a.Warnf("They are not sent again; add --resend-unknown to send them again.\n")
	}
}

func (p *sendPrinter) progress(pg delivery.Progress) {
	done := pg.Sent + pg.Failed
	eta := "-"
	if pg.ETA > 0 {
		eta = pg.ETA.Round(time.Second).String()
	}
	if p.tty {
		width := 30
		fill := 0
		if pg.Total > 0 {
			fill = width * done / pg.Total
		}
		bar := make([]byte, width)
		for i := range bar {
			bar[i] = '.'
			if i < fill {
				bar[i] = '#'
			}
		}
		p.app.Warnf("\r[%s] %d/%d sent %d failed %d deferred %d  %.1f/s  ETA %s   ", bar, done, pg.Total, pg.Sent, pg.Failed, pg.Deferred, pg.Rate, eta)
		p.drew = true
		return
	}
	if time.Since(p.last) < 10*time.Second {
		return
	}
	p.last = time.Now()
	p.app.Warnf("%s progress: %d/%d done, sent %d, failed %d, deferred %d, %.1f msg/s, ETA %s\n",
		time.Now().Format("15:04:05"), done, pg.Total, pg.Sent, pg.Failed, pg.Deferred, pg.Rate, eta)
}

// done prints how a delivery ended and what to do next.
func (p *sendPrinter) done(res *core.SendResult) {
	a := p.app
	if p.drew {
		a.Warnf("\n")
	}
	if res.DryRun {
		a.Printf("Dry run: nothing was sent. %d recipient(s) would get a message.\n", res.Preflight.Ready)
		return
	}
	out := res.Outcome
	c := out.Counts
	a.Printf("Delivery %d %s: %d sent, %d failed, %d deferred, %d unknown, %d skipped, %d suppressed, %d not yet sent.\n",
		out.ID, out.Status, c.Sent, c.Failed, c.Deferred, c.Unknown, c.Skipped, c.Suppressed, c.Pending+c.Cancelled)
	if out.Reason != "" {
		a.Printf("Reason: %s\n", out.Reason)
	}
	switch {
	case out.SignIn:
		a.Printf("Sign in again, then run 'bluemoon deliveries resume %d'.\n", out.ID)
	case res.SchedulerResume != nil:
		// serve's job: the scheduler that ran it goes on with it, so a
		// person is told how to stop that, not to do it.
		a.Printf("%s ('bluemoon deliveries pause %d' keeps it waiting for you).\n", schedulerResumeText(a, res.SchedulerResume), out.ID)
	case out.Status == delivery.StatusPaused:
		a.Printf("Go on with 'bluemoon deliveries resume %d'.\n", out.ID)
	}
	if c.Failed > 0 || c.Skipped > 0 {
		a.Printf("Every recipient's outcome: 'bluemoon deliveries report %d'.\n", out.ID)
	}
}

// quiet keeps Run from printing a delivery's outcome error a second time:
// the outcome is printed already; only its exit code is left to give.
func quiet(err error) error {
	var oe *core.OutcomeError
	if errors.As(err, &oe) {
		return exitWith(oe.ExitCode())
	}
	return err
}

// schedulerResumeText says when the scheduler goes on with a delivery by
// itself, as a sentence without its full stop.
func schedulerResumeText(a *App, r *core.SchedulerResume) string {
	switch {
	case r.Retrying:
		return fmt.Sprintf("The scheduler could not resume it (see the reason); it tries again at %s", a.when(r.At))
	case r.Cause == core.CauseSchedulerStopped:
		return "The scheduler resumes it by itself when it runs next"
	}
	return fmt.Sprintf("The scheduler resumes it by itself after %s", a.when(r.At))
}
