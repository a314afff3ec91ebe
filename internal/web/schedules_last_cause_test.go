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
	c, _, _ := pausedByTheLimitOnSchedule(t)
	schedulesPageSays(t, c, map[string][]string{
		"en": {"Paused: daily limit", "the scheduler resumes the delivery by itself once the limit resets"},
		"ja": {"一時停止（1 日の上限）", "上限がリセットされると、スケジューラーが配信を自動で再開します"},
	}, "Did not succeed", "resume it on its page", "失敗（終了コード", "配信のページで再開してください")
}

// schedulesPageSays checks the schedules page in each language of want:
// it says all of want[lang], none of not, and has no missing message.
func schedulesPageSays(t *testing.T, c *console, want map[string][]string, not ...string) {
	t.Helper()
	for lang, want := range want {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		_, page := s.get("/schedules")
		for _, w := range want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page does not say %q:\n%s", lang, w, page)
			}
		}
		for _, n := range not {
			if strings.Contains(page, n) {
				t.Errorf("%s: the page says %q", lang, n)
			}
		}
		if missingKey.MatchString(page) {
			t.Errorf("%s: a message key is missing: %s", lang, missingKey.FindString(page))
		}
	}
}

// Once the delivery a scheduled run left paused for the scheduler has
// gone on — the scheduler's resume finished it, or a person cancelled it
// — the schedules page says what became of it, in the person's language,
// not that the scheduler resumes it.
func TestSchedulesPageSaysWhatBecameOfTheDeliveryTheSchedulerResumed(t *testing.T) {
	for _, tc := range []struct {
		name string
		then func(t *testing.T, c *console, other *core.Service)
		want map[string][]string
	}{
		{"the scheduler resumed it to the end", func(t *testing.T, c *console, other *core.Service) {
			db, err := store.Open(context.Background(), c.home)
			if err != nil {
				t.Fatal(err)
			}
			// The day's window reopens.
			for _, q := range []string{`UPDATE send_log SET minute = minute - 1500`,
				`UPDATE deliveries SET resume_after = resume_after - 1500 * 60000 WHERE resume_after > 0`} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			db.Close()
			if err := other.Serve(context.Background(), core.ServeOptions{Once: true}); err != nil {
				t.Fatal(err)
			}
		}, map[string][]string{
			"en": {"Finished after a pause", "every recipient was sent", "Open delivery 1"},
			"ja": {"一時停止の後に完了", "すべての宛先に送信済みです", "配信 1 を開く"},
		}},
		{"a person cancelled it", func(t *testing.T, c *console, other *core.Service) {
			if _, err := c.svc.CancelDelivery(t.Context(), 1); err != nil {
				t.Fatal(err)
			}
		}, map[string][]string{
			"en": {"Cancelled since", "then was cancelled"},
			"ja": {"その後キャンセル", "キャンセルされました"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ms, other := pausedByTheLimitOnSchedule(t)
			tc.then(t, c, other)
			if tc.name == "the scheduler resumed it to the end" && len(ms.smtp.Messages()) != 2 {
				t.Fatalf("%d sent, want 2 (the resume sent the rest)", len(ms.smtp.Messages()))
			}
			schedulesPageSays(t, c, tc.want, "Paused: daily limit", "the scheduler resumes the delivery by itself", "一時停止（1 日の上限）", "スケジューラーが配信を自動で再開します")
		})
	}
}

// pausedByTheLimitOnSchedule is a console whose schedule "once" ran
// delivery 1, paused by the daily limit after one of two messages, by a
// serve in another process (other, kept open for the test).
func pausedByTheLimitOnSchedule(t *testing.T) (*console, *standIn, *core.Service) {
	t.Helper()
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	if _, err := c.svc.EditAccount(t.Context(), "relay", core.AccountInput{PerDay: core.Ptr(1)}); err != nil {
		t.Fatal(err)
	}
	saveNews(t, c.svc, "news", "relay", 2)
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
	t.Cleanup(func() { other.Close() })
	if err := other.Serve(context.Background(), core.ServeOptions{Once: true}); err != nil {
		t.Fatal(err)
	}
	if n := len(ms.smtp.Messages()); n != 1 {
		t.Fatalf("%d sent, want 1 (the limit)", n)
	}
	return c, ms, other
}
