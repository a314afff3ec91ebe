package automatic

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// A list larger than the account's day (Gmail: 2,000 a day) pauses when
// the day's sending is spent; `serve` resumes it once the limit has reset,
// day after day, until it is done, so that nobody has to resume it each
// morning. Paused again by the limit it raises no alert (it goes on by
// itself); a delivery its user paused by hand is left alone.
func TestServeResumesADeliveryOnceItsDailyLimitResets(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	mustRun(t, h.home, "account", "edit", "sales", "--per-day", "1")
	saveNews(t, h.home) // three recipients
	alerts := filepath.Join(t.TempDir(), "serve-alerts.json")
	serveOnce := func() {
		t.Helper()
		mustRun(t, h.home, "serve", "--once", "--notify-cmd", "cat >> "+alerts)
	}
	sent := func() int { return len(h.smtp.Messages()) }

	r := run(t, h.home, "run", "news", "--unattended")
	if r.Code != 5 || sent() != 1 {
		t.Fatalf("first day: exit %d, %d sent; want exit 5 (paused by the account's limit), 1 sent\n%s", r.Code, sent(), r.Stderr)
	}
	if reason := deliveryReason(t, h.home, 1); !strings.Contains(reason, "per 24 hours") {
		t.Fatalf("first day: paused because %q; want the account's daily limit", reason)
	}
	serveOnce() // the day is not over: nothing to resume
	if sent() != 1 || deliveryStatus(t, h.home, 1) != "paused" {
		t.Fatalf("serve resumed a delivery whose limit had not reset: %d sent, %s", sent(), deliveryStatus(t, h.home, 1))
	}

	dayPasses(t, h.home)
	serveOnce()
	if sent() != 2 || deliveryStatus(t, h.home, 1) != "paused" {
		t.Fatalf("second day: %d sent, %s; want 2 sent and paused again by the limit", sent(), deliveryStatus(t, h.home, 1))
	}
	if evs := readEvents(t, alerts); len(evs) != 0 {
		t.Fatalf("paused again by the daily limit, it raised alerts: %+v", evs)
	}

	dayPasses(t, h.home)
	serveOnce()
	if sent() != 3 || deliveryStatus(t, h.home, 1) != "done" {
		t.Fatalf("third day: %d sent, %s; want all 3 sent, done", sent(), deliveryStatus(t, h.home, 1))
	}
	got := map[string]int{}
	for _, m := range h.smtp.Messages() {
		for _, rcpt := range m.To {
			got[rcpt]++
		}
	}
	for _, want := range []string{"alice@example.org", "bob@example.org", "sato@example.org"} {
		if got[want] != 1 {
			t.Errorf("%s got %d message(s), want 1 (all: %v)", want, got[want], got)
		}
	}

	// The next one finds the day spent; its user pauses it by hand, and
	// that pause holds when the limit resets.
	if r := run(t, h.home, "run", "news", "--unattended"); r.Code != 5 || sent() != 3 {
		t.Fatalf("a second delivery the same day: exit %d, %d sent in all; want exit 5, nothing more sent", r.Code, sent())
	}
	mustRun(t, h.home, "deliveries", "pause", "2")
	dayPasses(t, h.home)
	serveOnce()
	if sent() != 3 || deliveryStatus(t, h.home, 2) != "paused" {
		t.Fatalf("a delivery paused by hand: %d sent in all, %s; want it left paused, nothing more sent", sent(), deliveryStatus(t, h.home, 2))
	}
}

// dayPasses moves the account's sending and the paused deliveries' resume
// times 25 hours back: as if a day had gone by.
func dayPasses(t *testing.T, home string) {
	t.Helper()
	withDB(t, home, func(db *store.DB) {
		for _, q := range []string{
			`UPDATE send_log SET minute = minute - 1500`,
			`UPDATE deliveries SET resume_after = resume_after - 1500 * 60000 WHERE resume_after > 0`,
		} {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func deliveryStatus(t *testing.T, home string, id int) string {
	t.Helper()
	return showDelivery(t, home, id).Status
}

func deliveryReason(t *testing.T, home string, id int) string {
	t.Helper()
	return showDelivery(t, home, id).Reason
}

func showDelivery(t *testing.T, home string, id int) (d struct{ Status, Reason string }) {
	t.Helper()
	r := mustRun(t, home, "deliveries", "show", strconv.Itoa(id), "--json")
	if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
		t.Fatalf("deliveries show --json: %v\n%s", err, r.Stdout)
	}
	return d
}
