package keepalive

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

var day = 24 * time.Hour

func TestCheckMicrosoftIdle(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	fresh := TokenAge{Provider: provider.Microsoft, Obtained: now.Add(-200 * day), LastRefreshed: now.Add(-10 * day)}
	if ws := Check(fresh, now); len(ws) != 0 {
		t.Fatalf("refreshed 10 days ago: %v", ws)
	}
	stale := TokenAge{Provider: provider.Microsoft, Obtained: now.Add(-200 * day), LastRefreshed: now.Add(-80 * day)}
	ws := Check(stale, now)
	if len(ws) != 1 || !ws[0].Expires.Equal(now.Add(10*day)) || !strings.Contains(ws[0].Message, "90 days") {
		t.Fatalf("80 days idle: %+v", ws)
	}
}

func TestCheckGoogleTestingAndIdle(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	six := TokenAge{Provider: provider.Google, Obtained: now.Add(-6 * day), LastRefreshed: now.Add(-time.Hour)}
	ws := Check(six, now)
	if len(ws) != 1 || !strings.Contains(ws[0].Message, "Testing") || !ws[0].Expires.Equal(now.Add(day)) {
		t.Fatalf("6 days after sign-in: %+v", ws)
	}
	// Past 7 days and still refreshing: the app is not in Testing; no warning.
	old := TokenAge{Provider: provider.Google, Obtained: now.Add(-30 * day), LastRefreshed: now.Add(-time.Hour)}
	if ws := Check(old, now); len(ws) != 0 {
		t.Fatalf("30 days, refreshed: %+v", ws)
	}
	idle := TokenAge{Provider: provider.Google, Obtained: now.Add(-300 * day), LastRefreshed: now.Add(-170 * day)}
	if ws := Check(idle, now); len(ws) != 1 || !strings.Contains(ws[0].Message, "180 days") {
		t.Fatalf("170 days idle: %+v", ws)
	}
}

type signIn struct{}

func (signIn) Error() string     { return "sign-in needed: refresh token revoked" }
func (signIn) NeedsSignIn() bool { return true }
func (signIn) ExitCode() int     { return 4 }

func TestRunStopsAtFailedRefreshKeepingExitCode(t *testing.T) {
	sent := false
	_, err := Run(context.Background(), Steps{
		Refresh:  func(context.Context) error { return signIn{} },
		SendTest: func(context.Context) error { sent = true; return nil },
	})
	var c interface{ ExitCode() int }
	if !errors.As(err, &c) || c.ExitCode() != 4 {
		t.Fatalf("error %v lost its exit code", err)
	}
	if sent {
		t.Fatal("test message sent after a failed refresh")
	}
}

func TestRunRefreshesThenSendsAndChecks(t *testing.T) {
	var order []string
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	r, err := Run(context.Background(), Steps{
		Refresh:  func(context.Context) error { order = append(order, "refresh"); return nil },
		SendTest: func(context.Context) error { order = append(order, "send"); return nil },
		Age: func(context.Context) (TokenAge, error) {
			return TokenAge{Provider: provider.Google, Obtained: now.Add(-6 * day), LastRefreshed: now}, nil
		},
		Now: func() time.Time { return now },
	})
	if err != nil || !r.Refreshed || !r.TestSent || len(r.Warnings) != 1 || strings.Join(order, ",") != "refresh,send" {
		t.Fatalf("report %+v, err %v, order %v", r, err, order)
	}
}
