package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/gofrs/flock"
)

// The console's scheduler (StartServe, in this process) resumes a delivery
// paused by the account's daily limit once the limit has reset, as
// `bluemoon serve` does (tests/automatic covers that, with child
// processes, day after day).
func TestBackgroundServeResumesADeliveryOnceItsDailyLimitResets(t *testing.T) {
	svc, srv, id := pausedByTheDailyLimit(t)
	ctx := context.Background()

	if _, err := svc.StartServe(ctx, ServeOptions{Poll: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	defer svc.StopServe()
	time.Sleep(200 * time.Millisecond) // ten looks
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || srv.Count() != 2 {
		t.Fatalf("resumed before its limit reset: %s, %d sent", d.Status, srv.Count())
	}

	dayPasses(t, svc)
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := svc.Delivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == delivery.StatusDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not resumed once its limit reset: %s (%s), %d sent", d.Status, d.Reason, srv.Count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if srv.Count() != 3 {
		t.Fatalf("%d messages in all, want 3", srv.Count())
	}
}

// A due delivery whose account is busy sending a delivery started by hand
// (in another process) is not resumed then, and nobody is alerted for it:
// the scheduler tries again later and resumes it once the account is free.
func TestDueResumeWaitsForABusyAccountWithoutAlerting(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the alert command uses /bin/sh")
	}
	svc, srv, id := pausedByTheDailyLimit(t)
	ctx := context.Background()
	dayPasses(t, svc)
	alerts := filepath.Join(t.TempDir(), "alerts.json")
	notify := alert.Config{Command: "cat >> " + alerts}

	os.MkdirAll(filepath.Join(svc.Home(), "locks"), 0o700)
	held := flock.New(AccountLockFile(svc.Home(), "news"))
	if ok, err := held.TryLock(); err != nil || !ok {
		t.Fatal(err)
	}
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || d.Cause != delivery.CauseDailyLimit || srv.Count() != 2 {
		t.Fatalf("with the account busy: %s (%s), %d sent; want it left paused by the daily limit, due", d.Status, d.Cause, srv.Count())
	}
	if raw, _ := os.ReadFile(alerts); len(raw) != 0 {
		t.Fatalf("alerted for a busy account: %s", raw)
	}
	held.Unlock()
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusDone || srv.Count() != 3 {
		t.Fatalf("once the account is free: %s, %d sent; want done, 3 sent", d.Status, srv.Count())
	}
}

// pausedByTheDailyLimit sends 3 recipients through an account allowed 2 a
// day: the delivery (id) pauses after 2, to go on a day later.
func pausedByTheDailyLimit(t *testing.T) (*Service, *smtptest.Server, int64) {
	t.Helper()
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1, PerDay: 2})
	_, err := svc.Send(context.Background(), newsInput(t, "news", 3), SendEvents{})
	var oe *OutcomeError
	if !errors.As(err, &oe) || oe.Outcome.Cause != delivery.CauseDailyLimit || srv.Count() != 2 {
		t.Fatalf("want the delivery paused by the daily limit after 2; got %v, %d sent", err, srv.Count())
	}
	return svc, srv, oe.Outcome.ID
}

// dayPasses moves the account's sending and the deliveries' resume times
// 25 hours back: as if a day had gone by.
func dayPasses(t *testing.T, svc *Service) {
	t.Helper()
	for _, q := range []string{`UPDATE send_log SET minute = minute - 1500`,
		`UPDATE deliveries SET resume_after = resume_after - 1500 * 60000 WHERE resume_after > 0`} {
		if _, err := svc.db.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}
