package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

type fakeMailer struct {
	account, to, subject, body string
	err                        error
}

func (m *fakeMailer) SendAlert(_ context.Context, account, to, subject, body string) error {
	m.account, m.to, m.subject, m.body = account, to, subject, body
	return m.err
}

func TestCommandGetsEventJSONOnStdin(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses /bin/sh")
	}
	out := filepath.Join(t.TempDir(), "event.json")
	var logb bytes.Buffer
	n := &Notifier{Log: slog.New(slog.NewTextHandler(&logb, nil))}
	when := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	err := n.Notify(context.Background(), Config{Command: "cat > " + out + "; echo $BLUEMOON_ALERT_KIND >> " + out + ".kind"}, Event{
		Kind: SignInNeeded, Account: "sales", Schedule: "monthly", Delivery: "newsletter",
		Message: "sign-in needed: refresh failed with Bearer ya29.secret-token-value", Time: when,
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("stdin was not one JSON event: %v\n%s", err, raw)
	}
	if ev.Kind != SignInNeeded || ev.Account != "sales" || ev.Schedule != "monthly" || ev.Delivery != "newsletter" || !ev.Time.Equal(when) {
		t.Fatalf("event fields: %+v", ev)
	}
	if strings.Contains(string(raw), "ya29.secret") || strings.Contains(logb.String(), "ya29.secret") {
		t.Fatalf("a token reached the command or the log:\n%s\n%s", raw, logb.String())
	}
	kind, _ := os.ReadFile(out + ".kind")
	if strings.TrimSpace(string(kind)) != "signin_needed" {
		t.Fatalf("BLUEMOON_ALERT_KIND = %q", kind)
	}
	if !strings.Contains(logb.String(), "kind=signin_needed") {
		t.Fatalf("alert not logged: %s", logb.String())
	}
}

func TestFailingCommandIsReportedNotFatal(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses /bin/sh")
	}
	var logb bytes.Buffer
	n := &Notifier{Log: slog.New(slog.NewTextHandler(&logb, nil))}
	err := n.Notify(context.Background(), Config{Command: "echo webhook down >&2; exit 7"}, Event{Kind: DeliveryFailed, Message: "x"})
	if err == nil || !strings.Contains(err.Error(), "webhook down") {
		t.Fatalf("error %v should carry the command's output", err)
	}
	if !strings.Contains(logb.String(), "alert not delivered") {
		t.Fatalf("failure not logged: %s", logb.String())
	}
}

func TestFailingCommandDoesNotQuoteItsWebhookSecret(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses /bin/sh")
	}
	const secret = "T0001/B0002/XyZsecretWebhookPart"
	var logb bytes.Buffer
	n := &Notifier{Log: slog.New(slog.NewTextHandler(&logb, nil))}
	// It fails at once (the curl is a shell comment): only its text matters.
	cmd := "exit 7 # curl -d @- http://127.0.0.1:1/services/" + secret
	err := n.Notify(context.Background(), Config{Command: cmd}, Event{Kind: DeliveryFailed, Message: "x"})
	if err == nil || !strings.Contains(err.Error(), "http://127.0.0.1:1/") {
		t.Fatalf("error %v should name the command", err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(logb.String(), secret) {
		t.Fatalf("the webhook secret was quoted:\nerror: %v\nlog: %s", err, logb.String())
	}
}

func TestEmailAlertThroughMailer(t *testing.T) {
	m := &fakeMailer{}
	n := &Notifier{Log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), Mailer: m}
	err := n.Notify(context.Background(), Config{Email: "ops@example.com", EmailAccount: "alerts"},
		Event{Kind: SignInNeeded, Account: "sales", Message: "the refresh token was revoked"})
	if err != nil {
		t.Fatal(err)
	}
	if m.account != "alerts" || m.to != "ops@example.com" || !strings.Contains(m.subject, "sign-in needed") ||
		!strings.Contains(m.body, "bluemoon login sales") || !strings.Contains(m.body, "revoked") {
		t.Fatalf("mail: %+v", m)
	}
	m.err = errors.New("535 5.7.3")
	if err := n.Notify(context.Background(), Config{Email: "ops@example.com", EmailAccount: "alerts"}, Event{Kind: DeliveryFailed}); err == nil {
		t.Fatal("a failed e-mail alert should be reported")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{Email: "ops@example.com"}).Validate(); err == nil || !strings.Contains(err.Error(), "--notify-account") {
		t.Fatalf("missing account: %v", err)
	}
	if err := (Config{Email: "nope", EmailAccount: "a"}).Validate(); err == nil {
		t.Fatal("bad address accepted")
	}
	if err := (Config{Command: "true"}).Validate(); err != nil {
		t.Fatal(err)
	}
}
