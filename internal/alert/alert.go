// Package alert tells a person that an unattended job needs them: a sign-in
// is needed, a preflight failed, a delivery paused or failed, a refresh token
// is about to die. An alert always goes to the log, and also, as configured,
// to a user command (JSON event on stdin) and to an e-mail sent through
// another account. An alert never carries a token or secret.
package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/redact"
)

// Kind says what happened.
type Kind string

const (
	SignInNeeded    Kind = "signin_needed"    // a person must run `bluemoon login`
	PreflightFailed Kind = "preflight_failed" // a scheduled delivery would fail: fix it before it is due
	DeliveryPaused  Kind = "delivery_paused"  // daily limit, pause command, Ctrl-C
	DeliveryFailed  Kind = "delivery_failed"  // finished with failures, or could not run
	KeepAliveFailed Kind = "keepalive_failed" // the keep-alive refresh or test send failed
	TokenExpiring   Kind = "token_expiring"   // a refresh token nears a known lifetime
	RunMissed       Kind = "run_missed"       // a scheduled run was missed while serve was down
)

// Event is what a notify command reads on stdin, as one JSON object.
type Event struct {
	Kind     Kind      `json:"kind"`
	Account  string    `json:"account,omitempty"`
	Delivery string    `json:"delivery,omitempty"` // saved delivery name (or delivery ID)
	Schedule string    `json:"schedule,omitempty"`
	Message  string    `json:"message"`
	Time     time.Time `json:"time"`
	ExitCode int       `json:"exit_code,omitempty"` // the exit code of the run that raised it
}

// Config says where alerts go besides the log. The zero Config logs only.
type Config struct {
	Command      string `json:"command,omitempty"`       // run by the shell, event JSON on stdin
	Email        string `json:"email,omitempty"`         // address to write to
	EmailAccount string `json:"email_account,omitempty"` // bluemoon account that sends it
}

// IsZero reports whether c sends alerts to the log only.
func (c Config) IsZero() bool { return c.Command == "" && c.Email == "" }

// Validate checks that an e-mail alert names both ends.
func (c Config) Validate() error {
	if (c.Email == "") != (c.EmailAccount == "") {
		return errors.New("--notify-email and --notify-account go together (the address to write to, and the account that sends it)")
	}
	if c.Email != "" && (!strings.Contains(c.Email, "@") || strings.ContainsAny(c.Email, " <>")) {
		return fmt.Errorf("--notify-email %q is not an e-mail address", c.Email)
	}
	return nil
}

// Mailer sends a plain-text alert through a bluemoon account.
type Mailer interface {
	SendAlert(ctx context.Context, account, to, subject, body string) error
}

// Notifier delivers alerts. Log is required; Mailer may be nil (e-mail
// alerts are then reported as undeliverable in the log).
type Notifier struct {
	Log     *slog.Logger
	Mailer  Mailer
	Timeout time.Duration // for the command and the e-mail; default 60 s
	Now     func() time.Time
}

// Notify logs ev and sends it where cfg says. It returns the errors of the
// channels that failed (joined); the log line is always written. A failing
// alert must not change the outcome of the job that raised it, so callers
// log the error and carry on.
func (n *Notifier) Notify(ctx context.Context, cfg Config, ev Event) error {
	if ev.Time.IsZero() {
		now := time.Now
		if n.Now != nil {
			now = n.Now
		}
		ev.Time = now().UTC()
	}
	ev.Message = redact.String(ev.Message)
	attrs := []any{"kind", string(ev.Kind)}
	for _, kv := range [][2]string{{"account", ev.Account}, {"delivery", ev.Delivery}, {"schedule", ev.Schedule}} {
		if kv[1] != "" {
			attrs = append(attrs, kv[0], kv[1])
		}
	}
	n.Log.Warn("alert", append(attrs, "message", ev.Message)...)

	timeout := n.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	var errs []error
	if cfg.Command != "" {
		if err := n.runCommand(ctx, timeout, cfg.Command, ev); err != nil {
			errs = append(errs, err)
		}
	}
	if cfg.Email != "" {
		if err := n.sendMail(ctx, timeout, cfg, ev); err != nil {
			errs = append(errs, err)
		}
	}
	for _, err := range errs {
		n.Log.Error("alert not delivered", "kind", string(ev.Kind), "err", err)
	}
	return errors.Join(errs...)
}

func (n *Notifier) runCommand(ctx context.Context, timeout time.Duration, command string, ev Event) error {
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := shell(ctx, command)
	cmd.Stdin = bytes.NewReader(append(body, '\n'))
	// The kind in the environment lets a one-line command branch without a JSON parser.
	cmd.Env = append(os.Environ(), "BLUEMOON_ALERT_KIND="+string(ev.Kind), "BLUEMOON_ALERT_ACCOUNT="+ev.Account)
	out, err := cmd.CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(redact.String(string(out)))
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		// The command line may hold a webhook's secret: quote it masked.
		shown := redact.Command(command)
		if msg != "" {
			return fmt.Errorf("notify command %q: %w: %s", shown, err, msg)
		}
		return fmt.Errorf("notify command %q: %w", shown, err)
	}
	return nil
}

// shell runs command the way the user would type it in their shell.
func shell(ctx context.Context, command string) *exec.Cmd {
	if runtime.GOOS == "windows" {
		return exec.CommandContext(ctx, "cmd", "/C", command)
	}
	return exec.CommandContext(ctx, "/bin/sh", "-c", command)
}

func (n *Notifier) sendMail(ctx context.Context, timeout time.Duration, cfg Config, ev Event) error {
	if n.Mailer == nil {
		return fmt.Errorf("e-mail alert to %s: this build cannot send mail yet", cfg.Email)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	subject, body := Render(ev)
	if err := n.Mailer.SendAlert(ctx, cfg.EmailAccount, cfg.Email, subject, body); err != nil {
		return fmt.Errorf("e-mail alert to %s through account %s: %w", cfg.Email, cfg.EmailAccount, err)
	}
	return nil
}
