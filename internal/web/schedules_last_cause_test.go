package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// A scheduled run whose delivery paused for the daily limit, which the
// scheduler resumes by itself, is said so on the schedules page, in the
// person's language: not "did not succeed (exit 5)… resume it on its
// page".
func TestSchedulesPageSaysTheSchedulerResumesARunPausedByTheLimit(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	if _, err := c.svc.EditAccount(t.Context(), "relay", core.AccountInput{PerDay: core.Ptr(1)}); err != nil {
		t.Fatal(err)
	}
	saveNews(t, c.svc, "news", "relay", 2)
	// A run due a minute ago, missed: run once now.
	db, err := store.Open(context.Background(), c.home)
	if err != nil {
		t.Fatal(err)
	}
	err = (&schedule.Store{DB: db.DB}).Add(context.Background(), &schedule.Schedule{Name: "once", Kind: schedule.KindDelivery, Target: "news",
		At: time.Now().Add(-time.Hour), TZ: "UTC", Missed: schedule.MissedRunOnce, CreatedAt: time.Now().Add(-2 * time.Hour)})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	other, err := core.Open(context.Background(), core.Options{Home: c.home})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Serve(context.Background(), core.ServeOptions{Once: true}); err != nil {
		t.Fatal(err)
	}
	if n := len(ms.smtp.Messages()); n != 1 {
		t.Fatalf("%d sent, want 1 (the limit)", n)
	}
	for lang, want := range map[string][]string{
		"en": {"Paused: daily limit", "the scheduler resumes the delivery by itself once the limit resets"},
		"ja": {"一時停止（1 日の上限）", "上限がリセットされると、スケジューラーが配信を自動で再開します"},
	} {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		_, page := s.get("/schedules")
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page does not say %q:\n%s", lang, w, page)
			}
		}
		for _, not := range []string{"Did not succeed", "resume it on its page", "失敗（終了コード", "配信のページで再開してください"} {
			if strings.Contains(page, not) {
				t.Errorf("%s: the page says %q", lang, not)
			}
		}
	}
}
