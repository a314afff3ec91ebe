package automatic

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// A daily keep-alive whose runs fell due while serve was down for three
// days: with run-once, the first `serve --once` runs it once (the test
// message reaches the server once), and the next does nothing more.
func TestMissedRunOnceRunsOnceAtStart(t *testing.T) {
	srv := startSMTP(t)
	home := passwordAccount(t, srv)
	addSchedule(t, home, &schedule.Schedule{Name: "keepalive-sales", Kind: schedule.KindKeepAlive, Target: "sales", SendTest: true,
		Cron: dailyCronAgo(t, "Asia/Tokyo"), TZ: "Asia/Tokyo", Missed: schedule.MissedRunOnce, CreatedAt: time.Now().Add(-72 * time.Hour)})

	r := mustRun(t, home, "serve", "--once")
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("run-once: %d test messages reached the server, want 1\nstderr: %s", n, r.Stderr)
	}
	if m := srv.Messages()[0]; m.To[0] != "sales@example.com" {
		t.Fatalf("keep-alive test message went to %v, want the account itself", m.To)
	}
	if !strings.Contains(r.Stderr, "running it once now") || !strings.Contains(r.Stderr, "missed=3") {
		t.Fatalf("the catch-up is not logged:\n%s", r.Stderr)
	}
	mustRun(t, home, "serve", "--once")
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("the missed runs were caught up again: %d messages", n)
	}
	list := mustRun(t, home, "schedule", "list", "--json").Stdout
	if !strings.Contains(list, `"last_exit": 0`) {
		t.Fatalf("schedule list does not show the run:\n%s", list)
	}
}

// dailyCronAgo is a daily cron spec whose latest run fell three hours ago
// in zone: far from the start-up grace, whatever the time of day the test
// runs (a fixed "0 7 * * *" flaked between 07:00 and 07:02), and, with a
// schedule made 72 hours ago, exactly three runs missed.
func dailyCronAgo(t *testing.T, zone string) string {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().In(loc).Add(-3 * time.Hour)
	return fmt.Sprintf("%d %d * * *", at.Minute(), at.Hour())
}

// With skip, nothing runs, the log says so, and a run_missed alert goes out.
func TestMissedSkipRunsNothingAndAlerts(t *testing.T) {
	needSh(t)
	srv := startSMTP(t)
	home := passwordAccount(t, srv)
	out := filepath.Join(t.TempDir(), "alerts.json")
	addSchedule(t, home, &schedule.Schedule{Name: "keepalive-sales", Kind: schedule.KindKeepAlive, Target: "sales", SendTest: true,
		Cron: dailyCronAgo(t, "UTC"), TZ: "UTC", Missed: schedule.MissedSkip, CreatedAt: time.Now().Add(-72 * time.Hour)})

	r := mustRun(t, home, "serve", "--once", "--notify-cmd", "cat >> "+out)
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("skip: %d messages sent", n)
	}
	if !strings.Contains(r.Stderr, "skipped") {
		t.Fatalf("the skip is not logged:\n%s", r.Stderr)
	}
	evs := readEvents(t, out)
	if len(evs) != 1 || evs[0].Kind != alert.RunMissed || evs[0].Schedule != "keepalive-sales" {
		t.Fatalf("alerts %+v", evs)
	}
}

// serve, long-running, starts a job at its time in a child process and
// records the result; SIGTERM stops it cleanly.
func TestServeRunsAScheduledJobAtItsTime(t *testing.T) {
	srv := startSMTP(t)
	home := passwordAccount(t, srv)
	addSchedule(t, home, &schedule.Schedule{Name: "soon", Kind: schedule.KindKeepAlive, Target: "sales", SendTest: true,
		At: time.Now().Add(2 * time.Second), TZ: "UTC", Missed: schedule.MissedSkip, CreatedAt: time.Now()})
	s := startServe(t, home)
	waitFor(t, "the scheduled test message", func() bool { return len(srv.Messages()) == 1 })
	waitFor(t, "the result recorded", func() bool {
		return strings.Contains(mustRun(t, home, "schedule", "list", "--json").Stdout, `"last_exit": 0`)
	})
	code, stderr := s.stop(t)
	if code != 0 {
		t.Fatalf("serve exit %d after SIGTERM\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "schedule run starts") || !strings.Contains(stderr, "keep-alive done") {
		t.Fatalf("serve's log:\n%s", stderr)
	}
}

// A schedule saved by an earlier version under a name today's rule refuses
// ("-sales": it reads as a flag) still runs: serve passes the name to the
// job after "--". It is listed and removed by the CLI too.
func TestServeRunsAScheduleSavedUnderAnOldName(t *testing.T) {
	srv := startSMTP(t)
	home := passwordAccount(t, srv)
	sc := &schedule.Schedule{Name: "-sales", Kind: schedule.KindKeepAlive, Target: "sales", SendTest: true,
		Cron: dailyCronAgo(t, "Asia/Tokyo"), TZ: "Asia/Tokyo", Missed: schedule.MissedRunOnce, CreatedAt: time.Now().Add(-72 * time.Hour)}
	if schedule.CheckName(sc.Name) == nil {
		t.Fatalf("%q is a name today's rule takes: the test needs one it refuses", sc.Name)
	}
	withDB(t, home, func(db *store.DB) {
		doc, _ := json.Marshal(sc)
		if _, err := db.DB.Exec(`INSERT INTO schedules (name, doc, created_at) VALUES (?, ?, ?)`, sc.Name, string(doc), sc.CreatedAt.Format(time.RFC3339Nano)); err != nil {
			t.Fatal(err)
		}
	})
	r := mustRun(t, home, "serve", "--once")
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("the schedule %q did not run: %d test messages, want 1\nstderr: %s", sc.Name, n, r.Stderr)
	}
	if list := mustRun(t, home, "schedule", "list").Stdout; !strings.Contains(list, "-sales") {
		t.Fatalf("schedule list lacks it:\n%s", list)
	}
	mustRun(t, home, "schedule", "remove", "--", "-sales")
	if list := mustRun(t, home, "schedule", "list").Stdout; strings.Contains(list, "-sales") {
		t.Fatalf("schedule remove left it:\n%s", list)
	}
}
