package cli

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

func init() { register(sendCmd) }

// listFlags are the flags that say how to read a recipient list.
type listFlags struct {
	file, delimiter, encoding, emailColumn string
}

func (l *listFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&l.file, "recipients", "", "recipient list: CSV or TSV with a header row (required)")
	cmd.Flags().StringVar(&l.delimiter, "delimiter", "", "force the column separator: comma or tab (default: by extension, else by the header)")
	cmd.Flags().StringVar(&l.encoding, "encoding", "auto", "list encoding: auto, utf-8 or shift_jis (cp932)")
	cmd.Flags().StringVar(&l.emailColumn, "email-column", "email", "the column holding the address")
}

func (l *listFlags) options() (recipients.Options, error) {
	o := recipients.Options{Encoding: l.encoding, EmailColumn: l.emailColumn}
	switch l.delimiter {
	case "":
	case ",", "comma":
		o.Delimiter = ','
	case "\t", "\\t", "tab":
		o.Delimiter = '\t'
	case ";", "semicolon":
		o.Delimiter = ';'
	default:
		return o, exitcode.Usagef("--delimiter %q: use comma, tab or semicolon", l.delimiter)
	}
	if l.file == "" {
		return o, exitcode.Usagef("--recipients FILE is required")
	}
	return o, nil
}

// templateFlags are the message's flags, shared by send and preview.
type templateFlags struct {
	subject, text, html, charset, attachColumn, attachDir string
	attach                                                []string
}

func (t *templateFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&t.subject, "subject", "", "subject, with merge fields like {{.name}} (required)")
	cmd.Flags().StringVar(&t.text, "text", "", "file with the plain-text body (a Go template)")
	cmd.Flags().StringVar(&t.html, "html", "", "file with the HTML body (merged values are HTML-escaped)")
	cmd.Flags().StringArrayVar(&t.attach, "attach", nil, "file attached to every message (repeatable)")
	cmd.Flags().StringVar(&t.attachColumn, "attach-column", "", "column naming a file for that recipient only (relative to the list's folder, or --attach-dir; nothing outside it is attached)")
	cmd.Flags().StringVar(&t.attachDir, "attach-dir", "", "the folder --attach-column's files are in (default: the list's folder)")
	cmd.Flags().StringVar(&t.charset, "charset", "utf-8", "message charset: utf-8 or iso-2022-jp")
}

func (t *templateFlags) spec(acct *account.Account) (merge.Spec, []merge.Attachment, error) {
	s := merge.Spec{Subject: t.subject, Charset: t.charset, AttachColumn: t.attachColumn, AttachDir: t.attachDir, From: acct.From, FromName: acct.FromName}
	if t.subject == "" {
		return s, nil, exitcode.Usagef("--subject is required")
	}
	if t.text == "" && t.html == "" {
		return s, nil, exitcode.Usagef("give a body: --text FILE and/or --html FILE")
	}
	for _, f := range []struct {
		path string
		dst  *string
		flag string
	}{{t.text, &s.Text, "--text"}, {t.html, &s.HTML, "--html"}} {
		if f.path == "" {
			continue
		}
		b, err := merge.ReadTemplate(f.path)
		if err != nil {
			return s, nil, exitcode.Usagef("%s: %w", f.flag, err)
		}
		*f.dst = b
	}
	var atts []merge.Attachment
	for _, p := range t.attach {
		a, err := merge.LoadAttachment(p)
		if err != nil {
			return s, nil, exitcode.Usagef("%w", err)
		}
		atts = append(atts, a)
	}
	return s, atts, nil
}

func accountLimits(acct *account.Account) provider.Limits { return delivery.LimitsOf(acct) }

func sendCmd(app *App) *cobra.Command {
	var lf listFlags
	var tf templateFlags
	var acctName, name string
	var dryRun, skipInvalid, unattended, noChunking bool
	var dailyWait time.Duration
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Send a personalised message to every recipient of a list",
		Long: `Checks everything first (every row, address and message, attachments and their size, and
that the account can sign in), reports all problems at once with their row numbers, then sends
within the account's limits, recording every recipient's outcome.

Exit codes: 0 every recipient sent (rows left out by --skip-invalid are reported, not counted
as failures); 3 finished with failures; 4 sign-in needed; 5 paused (Ctrl-C, 'deliveries pause',
daily limit); 2 bad input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			lo, err := lf.options()
			if err != nil {
				return err
			}
			if acctName == "" {
				return exitcode.Usagef("--account NAME is required (see 'bluemoon account list')")
			}
			db, err := app.DB(ctx)
			if err != nil {
				return err
			}
			acct, err := (&account.Store{DB: db.DB}).Get(ctx, acctName)
			if err != nil {
				return exitcode.Usagef("%w", err)
			}
			spec, atts, err := tf.spec(acct)
			if err != nil {
				return err
			}
			limits := accountLimits(acct)
			dial, err := app.deliveryDialer(ctx, acct, unattended, noChunking)
			authErr := err
			if err == nil {
				authErr = checkSignIn(ctx, dial)
			}
			plan := delivery.Plan{Name: name, Account: acct.Name, MaxBytes: limits.MaxMessageBytes, Spec: spec, Attachments: atts,
				List: lf.file, ListOptions: lo, SkipInvalid: skipInvalid, DryRun: dryRun || authErr != nil, NoChunking: noChunking}
			pf, err := delivery.Prepare(ctx, db.DB, plan)
			if pf != nil {
				app.printPreflight(pf)
			}
			if authErr != nil {
				app.Warnf("bluemoon: account %s cannot sign in: %v\n", acct.Name, authErr)
			} else {
				app.Warnf("Account %s signed in to %s.\n", acct.Name, acct.SMTPAddr())
			}
			if err != nil {
				return err
			}
			if authErr != nil {
				// 4 when a sign-in helps, 2 when a setting must change (5.7.139).
				return exitWith(exitcode.For(authErr))
			}
			if dryRun {
				app.Printf("Dry run: nothing was sent. %d recipient(s) would get a message.\n", pf.Ready)
				return nil
			}
			app.Printf("Delivery %d: %d recipient(s) to send to.\n", pf.DeliveryID, pf.Ready)
			return app.runDelivery(ctx, db.DB, acct, limits, pf.DeliveryID, dial, dailyWait)
		},
	}
	lf.add(cmd)
	tf.add(cmd)
	cmd.Flags().StringVar(&acctName, "account", "", "the sender account (required)")
	cmd.Flags().StringVar(&name, "name", "", "a name for the delivery (default: list file and time)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "check everything, send nothing")
	cmd.Flags().BoolVar(&skipInvalid, "skip-invalid", false, "leave out rows with problems (they are listed in the report) instead of refusing")
	cmd.Flags().BoolVar(&unattended, "unattended", false, "never prompt or open a browser (cron, Task Scheduler)")
	addDailyWait(cmd, &dailyWait)
	cmd.Flags().BoolVar(&noChunking, "no-chunking", false, "never use BDAT (CHUNKING), only DATA: for a server that mishandles BDAT; kept with the delivery, so resume follows it")
	return cmd
}

// addDailyWait adds --daily-wait: how long to wait for the daily window
// to reopen before pausing instead.
func addDailyWait(cmd *cobra.Command, d *time.Duration) {
	cmd.Flags().DurationVar(d, "daily-wait", 15*time.Minute, "when the daily limit is reached, wait this long for the window to reopen; longer waits pause the delivery (exit 5)")
}

// checkSignIn dials and signs in once, the preflight's last check (a
// refused token is refreshed and tried again inside the dial).
func checkSignIn(ctx context.Context, dial delivery.Dialer) error {
	m, err := dial(ctx, false)
	if err != nil {
		return err
	}
	return m.Close()
}

func (app *App) printPreflight(pf *delivery.Preflight) {
	app.Warnf("Checked %d row(s) (%s): %d to send, %d duplicate(s) dropped, %d suppressed, %d with problems; largest message %d bytes.\n",
		pf.Rows, pf.Encoding, pf.Ready, pf.Duplicates, pf.Suppressed, pf.ProblemCount, pf.LargestBytes)
	for _, p := range pf.Problems {
		app.Warnf("  %s\n", p)
	}
	if pf.ProblemCount > len(pf.Problems) {
		app.Warnf("  … and %d more\n", pf.ProblemCount-len(pf.Problems))
	}
	for _, n := range pf.Notes {
		app.Warnf("  note: %s\n", n)
	}
	if pf.UTF8Fallbacks > len(pf.Notes) {
		app.Warnf("  … and %d more message(s) go as UTF-8\n", pf.UTF8Fallbacks-len(pf.Notes))
	}
}

// lockDelivery takes the delivery's run lock: one process at a time runs
// or recovers a delivery, so `resume` never touches a live run's rows.
func (app *App) lockDelivery(id int64) (*flock.Flock, error) {
	fl, ok, err := app.tryLock(fmt.Sprintf("delivery-%d.lock", id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, exitcode.Usagef("delivery %d is running in another bluemoon process (pause it with 'bluemoon deliveries pause %d')", id, id)
	}
	return fl, nil
}

// busyError: the account is sending another delivery; this one is left
// ready to resume (exit code 5, like a pause).
type busyError struct{ msg string }

func (e *busyError) Error() string { return e.msg }
func (e *busyError) ExitCode() int { return exitcode.Paused }

// lockAccount takes the account's send lock: the provider's limits are per
// mailbox, so one delivery at a time per account keeps the per-minute,
// daily and connection counts true across processes.
func (app *App) lockAccount(name string, id int64) (*flock.Flock, error) {
	fl, ok, err := app.tryLock("account-" + hex.EncodeToString([]byte(name)) + ".lock")
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &busyError{fmt.Sprintf("account %s is sending another delivery in another bluemoon process (its limits are per mailbox); delivery %d is ready: run 'bluemoon deliveries resume %d' when that one is done", name, id, id)}
	}
	return fl, nil
}

func (app *App) tryLock(name string) (*flock.Flock, bool, error) {
	dir, err := app.Home()
	if err != nil {
		return nil, false, err
	}
	ldir := filepath.Join(dir, "locks")
	if err := os.MkdirAll(ldir, 0o700); err != nil {
		return nil, false, err
	}
	fl := flock.New(filepath.Join(ldir, name))
	ok, err := fl.TryLock()
	return fl, ok, err
}

// runDelivery runs delivery id under its lock, showing progress, and
// turns the outcome into the exit code.
func (app *App) runDelivery(ctx context.Context, db dbHandle, acct *account.Account, limits provider.Limits, id int64, dial delivery.Dialer, dailyWait time.Duration) error {
	al, err := app.lockAccount(acct.Name, id)
	if err != nil {
		return err
	}
	defer al.Unlock()
	fl, err := app.lockDelivery(id)
	if err != nil {
		return err
	}
	defer fl.Unlock()
	if dailyWait <= 0 {
		// --daily-wait 0: pause at once. The engine reads a zero wait as
		// "use the default" (15 minutes), so ask for the least wait there is.
		dailyWait = time.Nanosecond
	}
	pr := newProgressPrinter(app)
	e := &delivery.Engine{DB: db, Dial: dial, Opts: delivery.Options{Limits: limits, Progress: pr.show, MaxDailyWait: dailyWait}}
	out, err := e.Run(ctx, id)
	pr.done()
	if err != nil {
		return err
	}
	app.printOutcome(out)
	if code := out.ExitCode(); code != 0 {
		return exitWith(code)
	}
	return nil
}

func (app *App) printOutcome(out *delivery.Outcome) {
	c := out.Counts
	app.Printf("Delivery %d %s: %d sent, %d failed, %d deferred, %d unknown, %d skipped, %d suppressed, %d not yet sent.\n",
		out.ID, out.Status, c.Sent, c.Failed, c.Deferred, c.Unknown, c.Skipped, c.Suppressed, c.Pending+c.Cancelled)
	if out.Reason != "" {
		app.Printf("Reason: %s\n", out.Reason)
	}
	switch {
	case out.SignIn:
		app.Printf("Sign in again, then run 'bluemoon deliveries resume %d'.\n", out.ID)
	case out.Status == delivery.StatusPaused:
		app.Printf("Go on with 'bluemoon deliveries resume %d'.\n", out.ID)
	}
	if c.Failed > 0 || c.Skipped > 0 {
		app.Printf("Every recipient's outcome: 'bluemoon deliveries report %d'.\n", out.ID)
	}
}

// progressPrinter draws a progress line on a terminal, else writes a log
// line every 10 seconds.
type progressPrinter struct {
	app  *App
	tty  bool
	last time.Time
	drew bool
}

func newProgressPrinter(app *App) *progressPrinter {
	p := &progressPrinter{app: app}
	if f, ok := app.Stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.tty = true
	}
	return p
}

func (p *progressPrinter) show(pg delivery.Progress) {
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

func (p *progressPrinter) done() {
	if p.drew {
		p.app.Warnf("\n")
	}
}
