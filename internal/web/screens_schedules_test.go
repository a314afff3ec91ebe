package web_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// scheduleScreens seeds what the schedule screens show — a weekly and a
// monthly delivery (one run, one failed), a cron line, a one-off, the
// daily test send of the OAuth account, the home's alert settings — and
// lists the screens: the list, the form (new, and an edit refused for a
// bad time), the alert settings; the saved deliveries (the list, run
// now's question, a delete refused because schedules run it).
func scheduleScreens(t *testing.T, c *console, ms *standIn) []screen {
	t.Helper()
	ctx := t.Context()
	saveNews(t, c.svc, "monthly-news", "relay", 3)
	saveNews(t, c.svc, "weekly-offers", "relay", 3)
	for _, in := range []core.ScheduleInput{
		{Name: "weekly-offers", Target: "weekly-offers", Cron: "30 9 * * 1", TZ: "Asia/Tokyo", Preflight: 6 * time.Hour},
		{Name: "monthly-news", Target: "monthly-news", Cron: "0 10 1 * *", Preflight: schedule.DefaultPreflight,
			Alert: alert.Config{Email: "ops@example.org", EmailAccount: "relay"}},
		{Name: "every-6h-report", Target: "weekly-offers", Cron: "0 */6 * * *", TZ: "UTC"},
		{Name: "year-end", Target: "monthly-news", At: time.Now().AddDate(0, 0, 20).Format("2006-01-02") + " 15:00"},
	} {
		in.Kind, in.Missed = schedule.KindDelivery, schedule.MissedSkip
		if _, err := c.svc.AddSchedule(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.svc.PauseSchedule(ctx, "every-6h-report", true); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.svc.AddDailyTestSend(ctx, "info"); err != nil {
		t.Fatal(err)
	}
	if err := c.svc.SetAlertSettings(ctx, alert.Config{Command: "curl -s -d @- https://chat.example.com/hooks/bluemoon", Email: "ops@example.org", EmailAccount: "relay"}); err != nil {
		t.Fatal(err)
	}
	// Results as the scheduler records them.
	db, err := store.Open(context.Background(), c.home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st := &schedule.Store{DB: db.DB}
	ran := time.Now().Add(-26 * time.Hour)
	for name, res := range map[string]schedule.Result{
		"weekly-offers": {ExitCode: 0, Message: "ok"},
		"monthly-news":  {ExitCode: 4, Message: "delivery monthly-news stopped: a sign-in is needed (exit 4)"},
	} {
		if _, err := st.Update(ctx, name, func(s *schedule.Schedule) error {
			s.LastRunAt, s.LastExit, s.LastMessage = ran, res.ExitCode, res.Message
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	screens := []screen{
		{name: "schedules", path: "/schedules"},
		{name: "schedule-new", path: "/schedules/new?run=monthly-news"},
		{name: "schedule-edit-refused", path: "/schedules/weekly-offers/edit", setup: func(b *browser) {
			b.setValue("#time", "")
			b.submit("#schedule-save")
		}},
		{name: "schedule-alerts", path: "/schedules/alerts"},
		{name: "account-daily-test", path: "/accounts/relay"},
		{name: "saved-deliveries", path: "/deliveries/saved"},
		{name: "saved-run", path: "/deliveries/saved/monthly-news/run"},
		{name: "saved-remove-refused", path: "/deliveries/saved", setup: func(b *browser) {
			evalJS[bool](b, `window.confirm = function () { return true }, true`)
			b.submit("#saved-weekly-offers .saved-remove")
		}},
	}
	if runtime.GOOS == "linux" {
		// The set-up written into a temporary folder, never the user's own.
		t.Setenv("XDG_CONFIG_HOME", t.TempDir())
		screens = append(screens, screen{name: "schedules-install-written", path: "/schedules", setup: func(b *browser) {
			evalJS[bool](b, `window.confirm = function () { return true }, document.querySelector('#runner details').open = true, true`)
			b.submit("#install-write")
		}})
	}
	return screens
}
