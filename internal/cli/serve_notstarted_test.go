package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// A job serve cannot start at all (the bluemoon program gone, say) is
// alerted once, saying why and what to do: the scheduled run once for its
// occurrence, the due resume once (it then waits for a person, instead of
// a try logged every five minutes for ever).
func TestServeAlertsOnceForAJobItCannotStart(t *testing.T) {
	needSh(t)
	home, dir := t.TempDir(), t.TempDir()
	srv := sendingNews(t, home, nil, provider.Limits{Connections: 1, PerDay: 1}, "email,name\na@example.com,A\n")
	out := filepath.Join(t.TempDir(), "alert.json")
	// A delivery paused by the daily limit, due again now.
	list := writeTemp(t, dir, "l.csv", "email\nb@example.com\nc@example.com\n")
	body := writeTemp(t, dir, "b.txt", "Hi\n")
	if r := runCLI(t, home, "", "send", "--account", "sales", "--recipients", list, "--subject", "S", "--text", body, "--daily-wait", "0"); r.Code != 5 {
		t.Fatalf("send: exit %d\n%s", r.Code, r.Stderr)
	}
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE deliveries SET resume_after = ? WHERE id = 1`, time.Now().Add(-time.Minute).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	addOverdue(t, home, schedule.MissedRunOnce, "cat >> "+out)

	missing := filepath.Join(t.TempDir(), "bluemoon-gone")
	old := jobExecutable
	jobExecutable = func() (string, error) { return missing, nil }
	t.Cleanup(func() { jobExecutable = old })
	for range 3 {
		mustRun(t, home, "serve", "--once", "--notify-cmd", "cat >> "+out)
	}
	evs := readEvents(t, out)
	if len(evs) != 2 {
		t.Fatalf("%d alerts, want 2 (the scheduled run, the resume), once each: %+v", len(evs), evs)
	}
	var run, resume alert.Event
	for _, ev := range evs {
		if ev.Schedule == "daily" {
			run = ev
		} else {
			resume = ev
		}
	}
	if run.Kind != alert.DeliveryFailed || !strings.Contains(run.Message, "could not start") || !strings.Contains(run.Message, missing) ||
		!strings.Contains(run.Message, "bluemoon schedule run daily") {
		t.Errorf("the scheduled run's alert: %+v", run)
	}
	if resume.Kind != alert.DeliveryFailed || resume.Delivery != "1" || !strings.Contains(resume.Message, "could not start") ||
		!strings.Contains(resume.Message, missing) || !strings.Contains(resume.Message, "bluemoon deliveries resume 1") {
		t.Errorf("the resume's alert: %+v", resume)
	}
	if show := mustRun(t, home, "deliveries", "show", "1").Stdout; !strings.Contains(show, "could not start") || strings.Contains(show, "resumes it by itself") {
		t.Errorf("the delivery does not say it waits for a person:\n%s", show)
	}
	if srv.Count() != 1 {
		t.Errorf("%d sent, want 1 (the send's)", srv.Count())
	}
}
