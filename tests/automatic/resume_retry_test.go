package automatic

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// A resume at 09:00 that cannot refresh the sign-in because the token
// endpoint is unreachable (the network down a moment) is retried quietly,
// also by serve --once run by cron each minute (the failures are kept in
// the database); only when it has failed for an hour does the scheduler
// stop trying, with one alert saying what failed and what to do.
func TestServeOnceRetriesAResumeWhoseTokenEndpointIsDown(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	mustRun(t, h.home, "account", "edit", "sales", "--per-day", "1")
	saveNews(t, h.home)
	alerts := filepath.Join(t.TempDir(), "serve-alerts.json")
	serveOnce := func() string {
		t.Helper()
		return mustRun(t, h.home, "serve", "--once", "--notify-cmd", "cat >> "+alerts).Stderr
	}
	if r := run(t, h.home, "run", "news", "--unattended"); r.Code != 5 {
		t.Fatalf("first day: exit %d\n%s", r.Code, r.Stderr)
	}
	// An access token that has expired, as it would have a day later:
	// the resume must refresh it.
	accessTokenExpired(t, h)
	dayPasses(t, h.home)
	h.auth.Close()

	log := serveOnce()
	if status, cause := deliveryCause(t, h.home, 1); status != "paused" || cause != "daily_limit" {
		t.Fatalf("after a resume that could not reach the token endpoint: %s (%s); want still paused by the daily limit\n%s", status, cause, log)
	}
	if evs := readEvents(t, alerts); len(evs) != 0 {
		t.Fatalf("alerted for a passing failure: %+v\n%s", evs, log)
	}
	var after, since int64
	withDB(t, h.home, func(db *store.DB) {
		if err := db.QueryRow(`SELECT resume_after, resume_failing_since FROM deliveries WHERE id = 1`).Scan(&after, &since); err != nil {
			t.Fatal(err)
		}
	})
	if since == 0 || time.UnixMilli(after).Before(time.Now().Add(time.Minute)) {
		t.Fatalf("resume after %s, failing since %d; want a retry minutes later and the failure recorded\n%s", time.UnixMilli(after), since, log)
	}
	serveOnce() // a minute later: not yet due again
	if len(readEvents(t, alerts)) != 0 || len(h.smtp.Messages()) != 1 {
		t.Fatalf("the next serve --once: %d sent, alerts %+v", len(h.smtp.Messages()), readEvents(t, alerts))
	}

	// An hour of failures later.
	withDB(t, h.home, func(db *store.DB) {
		if _, err := db.Exec(`UPDATE deliveries SET resume_failing_since = resume_failing_since - 3660000, resume_after = ? WHERE id = 1`,
			time.Now().Add(-time.Second).UnixMilli()); err != nil {
			t.Fatal(err)
		}
	})
	serveOnce()
	serveOnce()
	evs := readEvents(t, alerts)
	if len(evs) != 1 || !strings.Contains(evs[0].Message, "could not resume delivery 1") ||
		!strings.Contains(evs[0].Message, "unreachable") || !strings.Contains(evs[0].Message, "bluemoon deliveries resume 1") {
		t.Fatalf("alerts: %+v; want one, naming the failure and saying to resume it", evs)
	}
	if status, cause := deliveryCause(t, h.home, 1); status != "paused" || cause != "connect" {
		t.Fatalf("after giving up: %s (%s); want paused, the server unreachable", status, cause)
	}
}

// accessTokenExpired leaves account sales with an access token that has
// expired, as it would be a day later: the next sign-in must refresh it.
func accessTokenExpired(t *testing.T, h *oauthHome) {
	t.Helper()
	h.auth.SetAccessTTL(time.Second)
	mustRun(t, h.home, "keepalive", "sales")
	time.Sleep(1100 * time.Millisecond)
}
