package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// A job serve cannot start at all (the bluemoon program gone, say) is
// alerted once, saying why and what to do: the scheduled run once for its
// occurrence, the due resume once (it then waits for a person, instead of
// a try logged every five minutes for ever).
func TestServeAlertsOnceForAJobItCannotStart(t *testing.T) {
	needSh(t)
	home, dir := t.TempDir(), t.TempDir()
	srv := sendingNews(t, home, nil, provider.Limits{Connections: 1, PerDay: 1}, "email,name\na@example.com,A\n")
	out := filepath.Join(t.TempDir(), "alert.json")
	// A delivery paused by the daily limit, due again now.
	list := writeTemp(t, dir, "l.csv", "email\nb@example.com\nc@example.com\n")
	body := writeTemp(t, dir, "b.txt", "Hi\n")
	if r := runCLI(t, home, "", "send", "--account", "sales", "--recipients", list, "--subject", "S", "--text", body, "--daily-wait", "0"); r.Code != 5 {
		t.Fatalf("send: exit %d\n%s", r.Code, r.Stderr)
	}
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE deliveries SET resume_after = ? WHERE id = 1`, time.Now().Add(-time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	addOverdue(t, home, schedule.MissedRunOnce, "cat >> "+out)

	missing := filepath.Join(t.TempDir(), "bluemoon-gone")
	old := jobExecutable
	jobExecutable = func() (string, error) { return missing, nil }
	t.Cleanup(func() { jobExecutable = old })
	for range 3 {
		mustRun(t, home, "serve", "--once", "--notify-cmd", "cat >> "+out)
	}
	evs := readEvents(t, out)
	if len(evs) != 2 {
		t.Fatalf("%d alerts, want 2 (the scheduled run, the resume), once each: %+v", len(evs), evs)
	}
	var run, resume alert.Event
	for _, ev := range evs {
		if ev.Schedule == "daily" {
			run = ev
		} else {
			resume = ev
		}
	}
	if run.Kind != alert.DeliveryFailed || !strings.Contains(run.Message, "could not start") || !strings.Contains(run.Message, missing) ||
		!strings.Contains(run.Message, "bluemoon schedule run daily") {
		t.Errorf("the scheduled run's alert: %+v", run)
	}
	if resume.Kind != alert.DeliveryFailed || resume.Delivery != "1" || !strings.Contains(resume.Message, "could not start") ||
		!strings.Contains(resume.Message, missing) || !strings.Contains(resume.Message, "bluemoon deliveries resume 1") {
		t.Errorf("the resume's alert: %+v", resume)
	}
	if show := mustRun(t, home, "deliveries", "show", "1").Stdout; !strings.Contains(show, "could not start") || strings.Contains(show, "resumes it by itself") {
		t.Errorf("the delivery does not say it waits for a person:\n%s", show)
	}
	if srv.Count() != 1 {
		t.Errorf("%d sent, want 1 (the send's)", srv.Count())
	}
}

// withScheduleStore calls f with the home's schedule store, as serve
// keeps it.
func withScheduleStore(t *testing.T, home string, f func(st *schedule.Store)) {
	t.Helper()
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f(&schedule.Store{DB: db.DB})
}

// jobProgramGone makes serve's jobs run a program that does not exist,
// and returns its path.
func jobProgramGone(t *testing.T) string {
	t.Helper()
	missing := filepath.Join(t.TempDir(), "bluemoon-gone")
	old := jobExecutable
	jobExecutable = func() (string, error) { return missing, nil }
	t.Cleanup(func() { jobExecutable = old })
	return missing
}

// alertsOnce runs serve --once three times and returns the alerts raised
// by them all, failing unless there are want of them.
func alertsOnce(t *testing.T, home, out string, want int) []alert.Event {
	t.Helper()
	for range 3 {
		mustRun(t, home, "serve", "--once", "--notify-cmd", "cat >> "+out)
	}
	evs := readEvents(t, out)
	if len(evs) != want {
		t.Fatalf("%d alerts, want %d: %+v", len(evs), want, evs)
	}
	return evs
}

// The same for a scheduled delivery's preflight: alerted once for the
// occurrence it checks, however often serve looks meanwhile, and once
// again for the next occurrence's.
func TestServeAlertsOnceForAPreflightItCannotStart(t *testing.T) {
	needSh(t)
	home := t.TempDir()
	srv := sendingNews(t, home, nil, provider.Limits{Connections: 1}, "email,name\na@example.com,A\n")
	out := filepath.Join(t.TempDir(), "alert.json")
	// Due in three hours, checked 24 hours ahead: its preflight is due now.
	at := time.Now().UTC().Add(3 * time.Hour)
	withScheduleStore(t, home, func(st *schedule.Store) {
		if err := st.Add(context.Background(), &schedule.Schedule{Name: "daily", Kind: schedule.KindDelivery, Target: "news",
			Cron: fmt.Sprintf("%d %d * * *", at.Minute(), at.Hour()), TZ: "UTC", Missed: schedule.MissedSkip,
			Preflight: 24 * time.Hour, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	})
	missing := jobProgramGone(t)

	ev := alertsOnce(t, home, out, 1)[0]
	if ev.Kind != alert.PreflightFailed || ev.Schedule != "daily" || !strings.Contains(ev.Message, "could not start its preflight") ||
		!strings.Contains(ev.Message, missing) || !strings.Contains(ev.Message, "bluemoon schedule run daily --preflight") {
		t.Errorf("the preflight's alert: %+v", ev)
	}
	// The next occurrence (the run moved an hour on) is checked, and
	// alerted, once again.
	withScheduleStore(t, home, func(st *schedule.Store) {
		at = at.Add(time.Hour)
		if _, err := st.Update(context.Background(), "daily", func(x *schedule.Schedule) error {
			x.Cron = fmt.Sprintf("%d %d * * *", at.Minute(), at.Hour())
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	alertsOnce(t, home, out, 2)
	if srv.Count() != 0 {
		t.Errorf("%d sent, want none", srv.Count())
	}
}

// And for a keep-alive: once for its run, however often serve looks
// meanwhile, and once again for its next run.
func TestServeAlertsOnceForAKeepAliveItCannotStart(t *testing.T) {
	needSh(t)
	home := t.TempDir()
	srv := sendingNews(t, home, nil, provider.Limits{Connections: 1}, "email,name\na@example.com,A\n")
	out := filepath.Join(t.TempDir(), "alert.json")
	// Daily, three hours ago, serve down since: a keep-alive runs once.
	ago := time.Now().UTC().Add(-3 * time.Hour)
	withScheduleStore(t, home, func(st *schedule.Store) {
		if err := st.Add(context.Background(), &schedule.Schedule{Name: "ka", Kind: schedule.KindKeepAlive, Target: "sales", SendTest: true,
			Cron: fmt.Sprintf("%d %d * * *", ago.Minute(), ago.Hour()), TZ: "UTC", Missed: schedule.MissedRunOnce,
			CreatedAt: time.Now().Add(-72 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	})
	missing := jobProgramGone(t)

	ev := alertsOnce(t, home, out, 1)[0]
	if ev.Kind != alert.KeepAliveFailed || ev.Schedule != "ka" || !strings.Contains(ev.Message, "could not start its keep-alive") ||
		!strings.Contains(ev.Message, missing) || !strings.Contains(ev.Message, "bluemoon schedule run ka") {
		t.Errorf("the keep-alive's alert: %+v", ev)
	}
	// A day on: its next run is due, and alerted once again.
	withScheduleStore(t, home, func(st *schedule.Store) {
		if _, err := st.Update(context.Background(), "ka", func(x *schedule.Schedule) error {
			x.LastDue = x.LastDue.Add(-24 * time.Hour)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	alertsOnce(t, home, out, 2)
	if srv.Count() != 0 {
		t.Errorf("%d sent, want none (no test message: the keep-alive never ran)", srv.Count())
	}
}
