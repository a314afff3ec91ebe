package automatic

import (
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// While the scheduler retries a resume that failed for a reason that may
// pass (here the token endpoint unreachable), 'deliveries show' and
// 'schedule list' say that it tries again and when — not that the
// scheduler resumes it once the limit resets, nor send a person to
// resume it as the next step.
func TestShowAndScheduleListSayTheSchedulerRetriesAFailingResume(t *testing.T) {
	needSh(t)
	h, _ := dueOverTheDailyLimit(t)
	if r := run(t, h.home, "serve", "--once"); r.Code != 0 || len(h.smtp.Messages()) != 1 {
		t.Fatalf("first day: serve exit %d, %d sent; want 0, 1 sent\n%s", r.Code, len(h.smtp.Messages()), r.Stderr)
	}
	// An access token that has expired, as it would have a day later: the
	// resume must refresh it, and the token endpoint is down.
	accessTokenExpired(t, h)
	dayPasses(t, h.home)
	h.auth.Close()
	log := mustRun(t, h.home, "serve", "--once").Stderr

	var after, since int64
	withDB(t, h.home, func(db *store.DB) {
		if err := db.QueryRow(`SELECT resume_after, resume_failing_since FROM deliveries WHERE id = 1`).Scan(&after, &since); err != nil {
			t.Fatal(err)
		}
	})
	if since == 0 {
		t.Fatalf("the resume's failure is not recorded\n%s", log)
	}
	at := func(ms int64) string { return time.UnixMilli(ms).Local().Format("2006-01-02 15:04 MST") }

	show := mustRun(t, h.home, "deliveries", "show", "1").Stdout
	for _, w := range []string{"The scheduler's resume of it has failed since " + at(since), "it tries again at " + at(after),
		"if it still fails at " + at(since+time.Hour.Milliseconds()) + " it stops trying and alerts",
		"To go on yourself instead: 'bluemoon deliveries resume 1'."} {
		if !strings.Contains(show, w) {
			t.Errorf("deliveries show does not say %q:\n%s", w, show)
		}
	}
	if strings.Contains(show, "Go on with") || strings.Contains(show, "if it runs then, resumes it") {
		t.Errorf("deliveries show sends a person to resume it, or does not say the resume fails:\n%s", show)
	}

	list := mustRun(t, h.home, "schedule", "list").Stdout
	if w := "exit 5, delivery 1 paused by the daily limit; the scheduler's resume of it failed, it tries again at " + at(after); !strings.Contains(list, w) {
		t.Errorf("schedule list does not say %q:\n%s", w, list)
	}
	if js := mustRun(t, h.home, "schedule", "list", "--json").Stdout; !strings.Contains(js, `"state": "resumes"`) || !strings.Contains(js, `"retry_at": "`+time.UnixMilli(after).UTC().Format(time.RFC3339Nano)) {
		t.Errorf("schedule list --json does not give the retry time %s:\n%s", time.UnixMilli(after).UTC().Format(time.RFC3339Nano), js)
	}
}
