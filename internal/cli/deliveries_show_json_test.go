package cli

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// 'deliveries show --json' carries what its text says of the scheduler:
// whether it resumes the delivery by itself, when, and while its resume is
// failing when it tries again and gives up; no "scheduler" for a delivery
// a person must resume (here one paused by hand).
func TestDeliveriesShowJSONCarriesTheSchedulersPlan(t *testing.T) {
	home := t.TempDir()
	sendingNews(t, home, nil, provider.Limits{Connections: 1, PerDay: 1}, "email,name\na@example.com,A\nb@example.com,B\n")
	for range 3 {
		if r := runCLI(t, home, "", "run", "news", "--unattended"); r.Code != 5 {
			t.Fatalf("run: exit %d, want 5 (paused by the daily limit)\n%s", r.Code, r.Stderr)
		}
	}
	// Delivery 2: the scheduler's resume of it failed 10 minutes ago for
	// a reason that may pass (delivery.RetryResume's state).
	since, retry := time.Now().Add(-10*time.Minute).Truncate(time.Millisecond), time.Now().Add(4*time.Minute).Truncate(time.Millisecond)
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`UPDATE deliveries SET resume_after = ?, resume_failing_since = ? WHERE id = 2`, retry.UnixMilli(), since.UnixMilli())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, home, "deliveries", "pause", "3")

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
