package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// threeKindsOfPause makes deliveries 1 to 3 of a home, each paused by
// the daily limit, then leaves 2 as the scheduler's failing resume leaves
// it (delivery.RetryResume: due again at retry, failing since since) and
// 3 paused by hand.
func threeKindsOfPause(t *testing.T) (home string, since, retry time.Time) {
	t.Helper()
	home = t.TempDir()
	sendingNews(t, home, nil, provider.Limits{Connections: 1, PerDay: 1}, "email,name\na@example.com,A\nb@example.com,B\n")
	for range 3 {
		if r := runCLI(t, home, "", "run", "news", "--unattended"); r.Code != 5 {
			t.Fatalf("run: exit %d, want 5 (paused by the daily limit)\n%s", r.Code, r.Stderr)
		}
	}
	since, retry = time.Now().Add(-10*time.Minute).Truncate(time.Millisecond), time.Now().Add(4*time.Minute).Truncate(time.Millisecond)
	setDeliveries(t, home, `UPDATE deliveries SET resume_after = ?, resume_failing_since = ? WHERE id = 2`, retry.UnixMilli(), since.UnixMilli())
	mustRun(t, home, "deliveries", "pause", "3")
	return home, since, retry
}

func setDeliveries(t *testing.T, home, query string, args ...any) {
	t.Helper()
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatal(err)
	}
}

// 'deliveries show --json' carries what its text says of the scheduler:
// whether it resumes the delivery by itself, when, and while its resume is
// failing when it tries again and gives up; no "scheduler" for a delivery
// a person must resume (here one paused by hand).
func TestDeliveriesShowJSONCarriesTheSchedulersPlan(t *testing.T) {
	home, since, retry := threeKindsOfPause(t)

	type plan struct {
		Cause        string     `json:"cause"`
		At           time.Time  `json:"at"`
		Retrying     *bool      `json:"retrying"`
		FailingSince *time.Time `json:"failing_since"`
		GiveUpAt     *time.Time `json:"give_up_at"`
	}
	show := func(id string) (d struct {
		Status      string    `json:"status"`
		Cause       string    `json:"cause"`
		ResumeAfter time.Time `json:"resume_after"`
		Scheduler   *plan     `json:"scheduler"`
	}) {
		t.Helper()
		r := mustRun(t, home, "deliveries", "show", id, "--json")
		if err := json.Unmarshal([]byte(r.Stdout), &d); err != nil {
			t.Fatalf("deliveries show %s --json: %v\n%s", id, err, r.Stdout)
		}
		return d
	}

	d := show("1")
	if p := d.Scheduler; d.Cause != "daily_limit" || p == nil || p.Cause != "daily_limit" || !p.At.Equal(d.ResumeAfter) || d.ResumeAfter.IsZero() ||
		p.Retrying == nil || *p.Retrying || p.FailingSince != nil || p.GiveUpAt != nil {
		t.Errorf("paused by the daily limit: %+v, scheduler %+v; want the scheduler resuming it at its resume_after, not retrying", d, p)
	}
	d = show("2")
	if p := d.Scheduler; p == nil || p.Cause != "daily_limit" || !p.At.Equal(retry) || p.Retrying == nil || !*p.Retrying ||
		p.FailingSince == nil || !p.FailingSince.Equal(since) || p.GiveUpAt == nil || !p.GiveUpAt.Equal(since.Add(time.Hour)) {
		t.Errorf("its resume failing: scheduler %+v; want retrying at %s, failing since %s, giving up at %s", p, retry, since, since.Add(time.Hour))
	}
	d = show("3")
	if d.Status != "paused" || d.Cause != "by_hand" || d.Scheduler != nil {
		t.Errorf("paused by hand: %+v; want no scheduler plan", d)
	}
	if r := mustRun(t, home, "deliveries", "show", "3", "--json"); json.Valid([]byte(r.Stdout)) && containsKey(r.Stdout, "scheduler") {
		t.Errorf("paused by hand: the JSON has a \"scheduler\" key:\n%s", r.Stdout)
	}
}

func containsKey(js, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal([]byte(js), &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

// 'deliveries list' asks the scheduler's own due test, as 'show' does:
// a delivery whose scheduler resume is failing is said to be retried, and
// when; one the scheduler would not resume (paused by hand, or a daily
// limit's pause with no time to go on) is plainly paused.
func TestDeliveriesListSaysTheSchedulerRetriesAFailingResume(t *testing.T) {
	home, _, retry := threeKindsOfPause(t)
	if r := runCLI(t, home, "", "run", "news", "--unattended"); r.Code != 5 {
		t.Fatalf("run: exit %d, want 5\n%s", r.Code, r.Stderr)
	}
	setDeliveries(t, home, `UPDATE deliveries SET resume_after = 0 WHERE id = 4`)
	r := runIn(t, home, time.UTC, "deliveries", "list")
	if r.Code != 0 {
		t.Fatalf("deliveries list: exit %d\n%s", r.Code, r.Stderr)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(r.Stdout, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = line
		}
	}
	for id, want := range map[string]string{
		"1": "paused (the scheduler resumes it)",
		"2": "paused (the scheduler retries its resume at " + retry.UTC().Format("2006-01-02 15:04 MST") + ")",
		"3": "paused ",
		"4": "paused ",
	} {
		if !strings.Contains(rows[id], want) {
			t.Errorf("delivery %s: %q; want %q", id, rows[id], want)
		}
	}
	if strings.Contains(rows["2"], "resumes it") {
		t.Errorf("delivery 2: %q; the scheduler does not simply resume it, it retries", rows["2"])
	}
	for _, id := range []string{"3", "4"} {
		if strings.Contains(rows[id], "scheduler") {
			t.Errorf("delivery %s: %q; the scheduler does not resume it", id, rows[id])
		}
	}
}
