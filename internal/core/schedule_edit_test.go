package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// savedNews stores a saved delivery "news" through a relay account.
func savedNews(t *testing.T, svc *Service) {
	t.Helper()
	srv := startSMTP(t, nil)
	addRelay(t, svc, "relay", srv.Addr, provider.Limits{Connections: 1})
	in := newsInput(t, "relay", 1)
	body := filepath.Join(t.TempDir(), "body.txt")
	writeFile(t, body, "Hello\n")
	if err := svc.SaveDelivery(context.Background(), &saved.Delivery{Name: "news", Account: "relay", Recipients: in.List.Path, Subject: "News", Text: body}); err != nil {
		t.Fatal(err)
	}
}

// A new time counts from the edit: no run of the old timing is made up or
// called missed, and the old preflight does not stand for the new run.
// The run history stays.
func TestEditScheduleRetimesFromNow(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	svc := newService(t, Options{Clock: func() time.Time { return now }})
	ctx := context.Background()
	savedNews(t, svc)
	if _, err := svc.AddSchedule(ctx, ScheduleInput{Name: "daily", Kind: schedule.KindDelivery, Target: "news", Cron: "0 9 * * *", TZ: "UTC",
		Missed: schedule.MissedSkip, Preflight: time.Hour}); err != nil {
		t.Fatal(err)
	}
	lastRun := now.Add(-23 * time.Hour)
	if _, err := svc.schedules().Update(ctx, "daily", func(s *schedule.Schedule) error {
		s.LastDue, s.PreflightFor, s.LastRunAt, s.LastExit, s.LastMessage = lastRun, now.Add(time.Hour), lastRun, 3, "some failed"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(4 * time.Hour) // 12:00, after today's 09:00, which the scheduler has not handled
	info, err := svc.EditSchedule(ctx, "daily", ScheduleInput{Name: "ignored", Kind: schedule.KindKeepAlive, Target: "news", Cron: "30 10 * * *", TZ: "Asia/Tokyo",
		Missed: schedule.MissedRunOnce, Preflight: 2 * time.Hour, Alert: alert.Config{Command: "true"}})
	if err != nil {
		t.Fatal(err)
	}
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	want := time.Date(2026, 12, 3, 10, 30, 0, 0, tokyo) // 12:00 UTC is 21:00 in Tokyo
	if info.Name != "daily" || info.Kind != schedule.KindDelivery || !info.Next.Equal(want) || info.Next.Location().String() != "Asia/Tokyo" {
		t.Fatalf("edited: %s %s next %v", info.Name, info.Kind, info.Next)
	}
	if !info.LastDue.Equal(now) || !info.PreflightFor.IsZero() || !info.LastRunAt.Equal(lastRun) || info.LastExit != 3 ||
		info.Missed != schedule.MissedRunOnce || info.Preflight != 2*time.Hour || info.Alert.Command != "true" || info.TZ != "Asia/Tokyo" {
		t.Fatalf("state after a new time: %+v", info.Schedule)
	}

	// Settings other than the time leave the scheduler's state alone.
	if _, err := svc.schedules().Update(ctx, "daily", func(s *schedule.Schedule) error { s.PreflightFor = want.UTC(); return nil }); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	info, err = svc.EditSchedule(ctx, "daily", ScheduleInput{Target: "news", Cron: "30 10 * * *", TZ: "Asia/Tokyo", Missed: schedule.MissedSkip, Preflight: time.Hour})
	if err != nil || info.LastDue.Equal(now) || !info.PreflightFor.Equal(want.UTC()) || info.Missed != schedule.MissedSkip || !info.Alert.IsZero() {
		t.Fatalf("same time: %+v %v", info, err)
	}

	// One time instead of a repeat.
	info, err = svc.EditSchedule(ctx, "daily", ScheduleInput{Target: "news", At: "2026-12-24 18:00", TZ: "UTC", Missed: schedule.MissedSkip})
	if err != nil || info.Cron != "" || !info.Next.Equal(time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)) {
		t.Fatalf("once: %+v %v", info, err)
	}

	_, err = svc.EditSchedule(ctx, "daily", ScheduleInput{Target: "news", Cron: "61 * * * *", Missed: schedule.MissedSkip})
	wantField(t, err, "cron")
	_, err = svc.EditSchedule(ctx, "daily", ScheduleInput{Target: "news", At: "2026-12-01 09:00", TZ: "UTC", Missed: schedule.MissedSkip})
	wantField(t, err, "at")
	_, err = svc.EditSchedule(ctx, "daily", ScheduleInput{Target: "nothing", Cron: "@daily", Missed: schedule.MissedSkip})
	wantField(t, err, "run")
	_, err = svc.EditSchedule(ctx, "daily", ScheduleInput{Target: "news", Cron: "@daily", Missed: schedule.MissedSkip, Alert: alert.Config{Email: "a@example.org", EmailAccount: "typo"}})
	wantField(t, err, "notify_account")
	_, err = svc.EditSchedule(ctx, "nope", ScheduleInput{Target: "news", Cron: "@daily", Missed: schedule.MissedSkip})
	wantNotFound(t, err, KindSchedule)
	if got, _ := svc.Schedule(ctx, "daily"); got.Cron != "" || got.Alert.Email != "" {
		t.Fatalf("a refused edit changed the schedule: %+v", got.Schedule)
	}
}

// The home's alert destination is checked like a schedule's, and is where
// alerts of schedules without their own go when the runner is given none.
func TestAlertSettingsAreTheDefaultDestination(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the notify command uses /bin/sh")
	}
	svc := newService(t, Options{})
	ctx := context.Background()
	if c, err := svc.AlertSettings(ctx); err != nil || !c.IsZero() {
		t.Fatalf("unset: %+v %v", c, err)
	}
	wantField(t, svc.SetAlertSettings(ctx, alert.Config{Email: "ops@example.org"}), "notify_email")
	wantField(t, svc.SetAlertSettings(ctx, alert.Config{Email: "not an address", EmailAccount: "x"}), "notify_email")
	wantField(t, svc.SetAlertSettings(ctx, alert.Config{Email: "ops@example.org", EmailAccount: "typo"}), "notify_account")

	if err := svc.accounts().Put(ctx, &account.Account{Name: "work", From: "work@example.com", SMTPHost: "h", SMTPPort: 587,
		Security: account.SecurityStartTLS, Auth: account.AuthXOAuth2, Credentials: "corp"}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	home, given := filepath.Join(dir, "home.json"), filepath.Join(dir, "given.json")
	if err := svc.SetAlertSettings(ctx, alert.Config{Command: "  cat >> " + home + "  "}); err != nil {
		t.Fatal(err)
	}
	if c, _ := svc.AlertSettings(ctx); c.Command != "cat >> "+home {
		t.Fatalf("stored %+v", c)
	}
	// work has no credentials: its keep-alive fails.
	if _, err := svc.AddSchedule(ctx, ScheduleInput{Name: "ka", Kind: schedule.KindKeepAlive, Target: "work", Cron: "@daily", Missed: schedule.MissedSkip}); err != nil {
		t.Fatal(err)
	}
	if err := svc.RunSchedule(ctx, "ka", false, false, alert.Config{}, SendEvents{}); err == nil {
		t.Fatal("the keep-alive of an account nobody signed in to succeeded")
	}
	if b, _ := os.ReadFile(home); !strings.Contains(string(b), `"kind":"keepalive_failed","account":"work","schedule":"ka"`) {
		t.Fatalf("the home's alert command got %q", b)
	}
	// Destinations given to the runner (serve's --notify-*) win.
	svc.RunSchedule(ctx, "ka", false, false, alert.Config{Command: "cat >> " + given}, SendEvents{})
	if b, _ := os.ReadFile(given); !strings.Contains(string(b), `"schedule":"ka"`) {
		t.Fatalf("the given command got %q", b)
	}
	if b, _ := os.ReadFile(home); strings.Count(string(b), "\n") != 1 {
		t.Fatalf("the home's command ran again: %q", b)
	}
	// The zero Config removes the setting.
	if err := svc.SetAlertSettings(ctx, alert.Config{}); err != nil {
		t.Fatal(err)
	}
	if c, err := svc.AlertSettings(ctx); err != nil || !c.IsZero() {
		t.Fatalf("after removing: %+v %v", c, err)
	}
}

// The probe tells whether a scheduler runs for the home, in this process or
// another, without ever being the reason a scheduler could not start.
func TestServeRunningProbe(t *testing.T) {
	home := t.TempDir()
	a := newService(t, Options{Home: home})
	b := newService(t, Options{Home: home})
	if on, err := a.ServeRunning(); err != nil || on {
		t.Fatalf("before serve: %v %v", on, err)
	}
	// Probes hammering the lock while serve starts must not keep it out.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				b.ServeRunning()
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.Serve(ctx, ServeOptions{Poll: 50 * time.Millisecond}) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		on, err := b.ServeRunning()
		if err != nil {
			t.Fatal(err)
		}
		if on {
			break
		}
		select {
		case err := <-served:
			t.Fatalf("serve ended while probed: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("serve never showed as running")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if on, _ := a.ServeRunning(); !on {
		t.Fatal("the serving process does not see its own scheduler")
	}
	var busy *BusyError
	if err := b.Serve(context.Background(), ServeOptions{}); !errors.As(err, &busy) || busy.Kind != KindServe {
		t.Fatalf("a second scheduler: %v", err)
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	if on, _ := b.ServeRunning(); on {
		t.Fatal("still running after serve stopped")
	}
}

// The guide's advice in one step: a daily keep-alive with a test message,
// made once; the keep-alive state says when the sign-in would die.
func TestDailyTestSendOnceAndKeepAliveState(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	svc := newService(t, Options{Clock: func() time.Time { return now }})
	ctx := context.Background()
	for _, name := range []string{"work", "quiet"} {
		if err := svc.accounts().Put(ctx, &account.Account{Name: name, From: name + "@example.com", SMTPHost: "h", SMTPPort: 587,
			Security: account.SecurityStartTLS, Auth: account.AuthXOAuth2, Credentials: "corp"}); err != nil {
			t.Fatal(err)
		}
	}
	sec, _ := svc.secrets()
	refreshed := now.Add(-10 * 24 * time.Hour)
	if err := oauth.SaveToken(sec, "work", &oauth.Token{Provider: provider.Microsoft, RefreshToken: "rt",
		ObtainedAt: now.Add(-30 * 24 * time.Hour), LastRefreshed: refreshed}); err != nil {
		t.Fatal(err)
	}
	// A plain keep-alive (no test message) holds the default name already.
	if _, err := svc.AddSchedule(ctx, ScheduleInput{Kind: schedule.KindKeepAlive, Target: "work", Cron: "@daily", Missed: schedule.MissedSkip}); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.DailyTestSend(ctx, "work"); err != nil || got != nil {
		t.Fatalf("a keep-alive without a test message counted: %v %v", got, err)
	}
	info, created, err := svc.AddDailyTestSend(ctx, "work")
	if err != nil || !created || info.Name != "keepalive-work-test" || !info.SendTest || info.Kind != schedule.KindKeepAlive ||
		info.Cron != "0 9 * * *" || info.Missed != schedule.MissedRunOnce || info.Next.IsZero() {
		t.Fatalf("added %+v created %v: %v", info, created, err)
	}
	again, created, err := svc.AddDailyTestSend(ctx, "work")
	if err != nil || created || again.Name != info.Name {
		t.Fatalf("second time: %+v created %v: %v", again, created, err)
	}
	if list, _ := svc.Schedules(ctx); len(list) != 2 {
		t.Fatalf("%d schedules", len(list))
	}
	_, _, err = svc.AddDailyTestSend(ctx, "nobody")
	wantNotFound(t, err, KindAccount)

	states, err := svc.KeepAliveStates(ctx)
	if err != nil || len(states) != 2 {
		t.Fatalf("%d states: %v", len(states), err)
	}
	q, w := states[0], states[1]
	if q.Account != "quiet" || !q.LastUse.IsZero() || !q.Expires.IsZero() || q.DailyTest != nil || q.SignIn.Health != HealthSignIn {
		t.Fatalf("never signed in: %+v", q)
	}
	if w.Account != "work" || !w.LastUse.Equal(refreshed) || !w.Expires.Equal(refreshed.Add(90*24*time.Hour)) || !w.TestingExpires.IsZero() ||
		w.DailyTest == nil || w.DailyTest.Name != "keepalive-work-test" {
		t.Fatalf("work: %+v", w)
	}
}

// An edited keep-alive keeps its account and runs with no preflight,
// whatever the form sent: a face cannot turn it into another account's.
func TestEditKeepAliveKeepsItsAccount(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	for _, n := range []string{"work", "other"} {
		if err := svc.accounts().Put(ctx, &account.Account{Name: n, From: n + "@example.com", SMTPHost: "h", SMTPPort: 587,
			Security: account.SecurityStartTLS, Auth: account.AuthXOAuth2, Credentials: "corp"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.AddSchedule(ctx, ScheduleInput{Name: "ka", Kind: schedule.KindKeepAlive, Target: "work", Cron: "@daily", Missed: schedule.MissedSkip}); err != nil {
		t.Fatal(err)
	}
	info, err := svc.EditSchedule(ctx, "ka", ScheduleInput{Target: "other", Cron: "0 7 * * *", Missed: schedule.MissedSkip, Preflight: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if info.Target != "work" || info.Preflight != 0 || info.Cron != "0 7 * * *" {
		t.Fatalf("edited keep-alive: target %q, preflight %v, cron %q", info.Target, info.Preflight, info.Cron)
	}
}
