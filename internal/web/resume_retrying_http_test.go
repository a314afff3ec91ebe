package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// retryState is what the scheduler's resume that failed for a reason that
// may pass leaves a delivery in (delivery.RetryResume): paused for the
// cause it waits on, due again at retry, failing since since.
func retryState(cause string, since, retry time.Time) string {
	return fmt.Sprintf(`status = 'paused', cause = '%s', reason = 'the limit', resume_after = %d, resume_failing_since = %d`,
		cause, retry.UnixMilli(), since.UnixMilli())
}

// While the scheduler retries a resume that failed (the network, the
// server), the delivery's page says when it tries again and when it gives
// up, in the person's language — not that the scheduler resumes it once
// the limit resets, nor that it waits for the person.
func TestDeliveryPageSaysTheSchedulerRetriesAFailingResume(t *testing.T) {
	since, retry := time.Now().Add(-10*time.Minute).Truncate(time.Minute), time.Now().Add(4*time.Minute).Truncate(time.Minute)
	for _, cause := range []string{"daily_limit", "scheduler_stopped"} {
		c := startConsole(t)
		id := pausedDelivery(t, c, retryState(cause, since, retry))
		for lang, want := range map[string][]string{
			"en": {"The scheduler could not resume it", "tries again at " + retry.Local().Format("2 Jan 2006 15:04 MST"),
				"if it still fails at " + since.Add(time.Hour).Local().Format("2 Jan 2006 15:04 MST")},
			"ja": {"スケジューラーによる再開が失敗しました", retry.Local().Format("2006年1月2日 15:04 (MST)") + " にもう一度試します",
				since.Add(time.Hour).Local().Format("2006年1月2日 15:04 (MST)") + " になっても失敗する場合"},
		} {
			s := c.session()
			s.hc.Transport = langTransport{lang}
			_, js := s.get(fmt.Sprintf("/deliveries/%d/progress", id))
			for _, w := range want {
				if !strings.Contains(js, w) {
					t.Errorf("%s, %s: progress does not say %q: %s", cause, lang, w, js)
				}
			}
			if !strings.Contains(js, `"can_pause":true`) {
				t.Errorf("%s, %s: Pause (keep it for a person) is not offered: %s", cause, lang, js)
			}
		}
	}
}

// The schedules page says the same of the delivery a run left paused for
// the scheduler, while the scheduler's resume of it is failing.
func TestSchedulesPageSaysTheSchedulerRetriesAFailingResume(t *testing.T) {
	c, _, _ := pausedByTheLimitOnSchedule(t)
	retry := time.Now().Add(4 * time.Minute).Truncate(time.Minute)
	db, err := store.Open(context.Background(), c.home)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`UPDATE deliveries SET resume_after = ?, resume_failing_since = ? WHERE id = 1`, retry.UnixMilli(), time.Now().Add(-10*time.Minute).UnixMilli())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	schedulesPageSays(t, c, map[string][]string{
		"en": {"Resume failing: retrying", "the scheduler", "resume of it failed", "it tries again at " + retry.Local().Format("2 Jan 2006 15:04 MST"), "Open delivery 1"},
		"ja": {"再開に失敗（再試行中）", "スケジューラーによる再開が失敗しました", retry.Local().Format("2006年1月2日 15:04 (MST)") + " にもう一度試します"},
	}, "once the limit resets", "上限がリセットされると", "Paused: waits for you", "一時停止（再開待ち）")
}
