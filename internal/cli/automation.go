package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/keepalive"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// job is one unattended piece of work: a saved delivery (or its preflight)
// or a keep-alive, started by `bluemoon run`, `bluemoon keepalive`,
// `bluemoon schedule run` or serve.
type job struct {
	Schedule   string
	Kind       schedule.Kind
	Target     string // saved delivery name, or account for a keep-alive
	SendTest   bool
	Preflight  bool
	Alert      alert.Config // where alerts go (the saved delivery's when zero)
	Unattended bool
}

// sendRunner performs `bluemoon send ARGS`. It runs the engine's own send
// command in this process, so a saved delivery behaves exactly as the same
// command typed by hand (flags, checks, exit codes). Tests replace it.
var sendRunner = func(ctx context.Context, app *App, args []string) error {
	home, err := app.Home()
	if err != nil {
		return err
	}
	// A fresh App whose stderr is also kept, so that a failure the engine
	// has already explained there can be quoted in the alert.
	tail := &tailWriter{max: 4096}
	sub := &App{Stdin: app.Stdin, Stdout: app.Stdout, Stderr: io.MultiWriter(app.Stderr, tail), IsTerminal: app.IsTerminal}
	if app.log.stamped != nil {
		// app's stderr already reaches the log file: do not copy it twice.
		sub.log.stamped = nopCloser{}
	}
	defer sub.Close()
	root := NewRoot(sub)
	if c, _, err := root.Find(args[:1]); err != nil || c == root {
		return fmt.Errorf("this bluemoon has no %q command (the delivery engine is not in this build)", args[0])
	}
	root.SetArgs(append([]string{"--home", home}, args...))
	err = root.ExecuteContext(ctx)
	var silent *silentError
	if errors.As(err, &silent) {
		if line := tail.lastLine("bluemoon: "); line != "" {
			return &explainedError{silentError: silent, detail: line}
		}
	}
	return err
}

type nopCloser struct{}

func (nopCloser) Write(p []byte) (int, error) { return len(p), nil }
func (nopCloser) Close() error                { return nil }

// explainedError is a failure the engine already printed: Run prints
// nothing more (it is a silentError), alerts quote the engine's sentence.
type explainedError struct {
	*silentError
	detail string
}

func (e *explainedError) Unwrap() error { return e.silentError }

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	if len(w.buf) > w.max {
		w.buf = w.buf[len(w.buf)-w.max:]
	}
	return len(p), nil
}

// lastLine returns the last line starting with prefix (without it).
func (w *tailWriter) lastLine(prefix string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := strings.Split(string(w.buf), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), prefix); ok {
			return rest
		}
	}
	return ""
}

func (a *App) notifier() *alert.Notifier {
	return &alert.Notifier{Log: a.Logger(), Mailer: accountMailer{a}}
}

// runJob does j, logs it, raises an alert when it did not succeed, and
// returns an error carrying the exit code (nil when all went well).
func (a *App) runJob(ctx context.Context, j job) error {
	log := a.Logger()
	var (
		err      error
		acctName string
		delivery string
		warnings []keepalive.Warning
	)
	what := "delivery"
	switch j.Kind {
	case schedule.KindDelivery:
		delivery = j.Target
		if j.Preflight {
			what = "preflight"
		}
		acctName, err = a.runSaved(ctx, &j)
	case schedule.KindKeepAlive:
		what, acctName = "keep-alive", j.Target
		var rep keepalive.Report
		rep, err = a.keepAlive(ctx, j.Target, j.SendTest, j.Unattended)
		warnings = rep.Warnings
	default:
		err = fmt.Errorf("unknown job kind %q", j.Kind)
	}
	code := exitcode.For(err)
	for _, kv := range [][2]string{{"schedule", j.Schedule}, {"account", acctName}, {"delivery", delivery}} {
		if kv[1] != "" {
			log = log.With(kv[0], kv[1])
		}
	}
	if code == exitcode.OK {
		log.Info(what+" done", "target", j.Target)
	} else {
		log.Error(what+" did not succeed", "target", j.Target, "exit", code, "err", errText(err, what, j.Target))
	}
	n := a.notifier()
	for _, w := range warnings {
		n.Notify(ctx, j.Alert, alert.Event{Kind: alert.TokenExpiring, Account: acctName, Schedule: j.Schedule, Message: w.Message})
	}
	if code != exitcode.OK {
		n.Notify(context.WithoutCancel(ctx), j.Alert, alert.Event{
			Kind: alertKind(j, code, err), Account: acctName, Delivery: delivery, Schedule: j.Schedule,
			Message: errText(err, what, j.Target), ExitCode: code,
		})
	}
	return err
}

// alertKind chooses what to call a failure: a sign-in is the most useful
// thing to say, whatever the job was.
func alertKind(j job, code int, err error) alert.Kind {
	var si interface{ NeedsSignIn() bool }
	switch {
	case code == exitcode.SignIn || (errors.As(err, &si) && si.NeedsSignIn()):
		return alert.SignInNeeded
	case j.Preflight:
		return alert.PreflightFailed
	case j.Kind == schedule.KindKeepAlive:
		return alert.KeepAliveFailed
	case code == exitcode.Paused:
		return alert.DeliveryPaused
	default:
		return alert.DeliveryFailed
	}
}

// errText is the sentence for an alert. An error already explained on
// stderr (a silent exit code) gets a sentence from its code.
func errText(err error, what, target string) string {
	var (
		silent    *silentError
		explained *explainedError
	)
	if err == nil {
		return ""
	}
	if errors.As(err, &explained) {
		return explained.detail
	}
	if !errors.As(err, &silent) {
		return err.Error()
	}
	switch silent.code {
	case exitcode.Failures:
		return fmt.Sprintf("%s %s finished, but some recipients failed (exit 3)", what, target)
	case exitcode.Paused:
		return fmt.Sprintf("%s %s paused (exit 5)", what, target)
	case exitcode.SignIn:
		return fmt.Sprintf("%s %s stopped: a sign-in is needed (exit 4)", what, target)
	}
	return fmt.Sprintf("%s %s ended with exit code %d", what, target, silent.code)
}

// runSaved runs (or preflights) a saved delivery, holding the account's
// lock so one unattended delivery per account runs at a time.
func (a *App) runSaved(ctx context.Context, j *job) (string, error) {
	db, err := a.DB(ctx)
	if err != nil {
		return "", err
	}
	d, err := (&saved.Store{DB: db.DB}).Get(ctx, j.Target)
	if err != nil {
		return "", usageIfNotFound(err, saved.ErrNotFound)
	}
	if j.Alert.IsZero() {
		j.Alert = d.Alert
	}
	if j.Preflight {
		// The refresh token is what dies between now and the delivery: an
		// access token still valid for an hour proves nothing about it, so
		// the preflight forces a refresh (saving a rotated token as usual).
		acct, err := a.account(ctx, d.Account)
		if err != nil {
			return d.Account, err
		}
		if acct.Auth == account.AuthXOAuth2 {
			if err := refreshToken(ctx, a, acct, j.Unattended); err != nil {
				return d.Account, err
			}
		}
	}
	args := d.Args()
	if j.Preflight {
		// The engine's dry run is the preflight: every row parsed, every
		// message rendered, the token refreshed and the SMTP login tried.
		args = append(args, "--dry-run")
	}
	if j.Unattended {
		args = append(args, "--unattended")
	}
	if !j.Preflight {
		home, err := a.Home()
		if err != nil {
			return d.Account, err
		}
		unlock, err := schedule.LockAccount(ctx, home, d.Account, func() {
			a.Logger().Info("waiting: another delivery through this account is running", "account", d.Account, "delivery", d.Name)
		})
		if err != nil {
			return d.Account, err
		}
		defer unlock()
	}
	a.Logger().Info("starting", "delivery", d.Name, "account", d.Account, "preflight", j.Preflight, "command", "bluemoon "+strings.Join(args[:1], " "))
	return d.Account, sendRunner(ctx, a, args)
}

// keepAlive refreshes acct's token and, if asked, sends it a test message.
func (a *App) keepAlive(ctx context.Context, name string, sendTest, unattended bool) (keepalive.Report, error) {
	acct, err := a.account(ctx, name)
	if err != nil {
		return keepalive.Report{}, err
	}
	steps := keepalive.Steps{}
	if acct.Auth == account.AuthXOAuth2 {
		steps.Refresh = func(ctx context.Context) error { return refreshToken(ctx, a, acct, unattended) }
		steps.Age = func(ctx context.Context) (keepalive.TokenAge, error) { return tokenAge(ctx, a, acct) }
	}
	if sendTest {
		steps.SendTest = func(ctx context.Context) error { return sendTestMessage(ctx, a, acct, unattended) }
	}
	rep, err := keepalive.Run(ctx, steps)
	for _, w := range rep.Warnings {
		a.Logger().Warn("sign-in expires soon", "account", name, "expires", w.Expires.Format(time.RFC3339), "message", w.Message)
	}
	return rep, err
}
