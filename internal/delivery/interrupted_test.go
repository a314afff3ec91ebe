package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
)

// A delivery stored as running whose process stopped stamping its
// heartbeat shows as interrupted, to any process that looks; one that is
// stamped shows as running. Pausing an interrupted one needs no live
// process: its rows left sending become unknown at once.
func TestDeadRunShowsAsInterrupted(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	id := prepared(t, db, StatusRunning, "", stateSent, stateSending, statePending, statePending, statePending)
	stamp := func(at time.Time) {
		if _, err := db.Exec(`UPDATE deliveries SET heartbeat = ? WHERE id = ?`, at.UnixMilli(), id); err != nil {
			t.Fatal(err)
		}
	}
	stamp(time.Now())
	if s, _ := Get(ctx, db.DB, id); s.Status != StatusRunning {
		t.Fatalf("freshly stamped: %s, want running", s.Status)
	}
	stamp(time.Now().Add(-InterruptedAfter - time.Second))
	s, err := Get(ctx, db.DB, id)
	if err != nil || s.Status != StatusInterrupted || s.Reason == "" {
		t.Fatalf("stale heartbeat: %v %s (%q), want interrupted with a reason", err, s.Status, s.Reason)
	}
	ds, err := List(ctx, db.DB)
	if err != nil || len(ds) != 1 || ds[0].Status != StatusInterrupted {
		t.Fatalf("list: %v %+v", err, ds)
	}
	running, err := RequestPause(ctx, db.DB, id)
	if err != nil || running {
		t.Fatalf("pause of an interrupted delivery: running %v, %v", running, err)
	}
	s, _ = Get(ctx, db.DB, id)
	if s.Status != StatusPaused || s.Counts.Sending != 0 || s.Counts.Unknown != 1 {
		t.Fatalf("after pause: %s %+v", s.Status, s.Counts)
	}
}

// A run stamps its heartbeat while it waits on a slow server, so it keeps
// showing as running (and its progress keeps coming) though nothing is
// answered for seconds.
func TestSlowRunKeepsItsHeartbeatAndProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("waits on a slow server")
	}
	db := openDB(t)
	srv := startServer(t, func(s *smtptest.Server) { s.Delay = 2500 * time.Millisecond })
	pf, err := Prepare(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(1))))
	if err != nil {
		t.Fatal(err)
	}
	// A heartbeat stamped only when something is answered would lapse.
	oldAfter, oldEvery := InterruptedAfter, heartbeatEvery
	InterruptedAfter, heartbeatEvery = 1200*time.Millisecond, 100*time.Millisecond
	defer func() { InterruptedAfter, heartbeatEvery = oldAfter, oldEvery }()
	opts := fastOpts()
	opts.Limits.Connections, opts.Window = 1, 1
	opts.ProgressEvery = 200 * time.Millisecond
	var events []time.Time
	var statuses []string
	opts.Progress = func(p Progress) {
		events = append(events, time.Now())
		if s, err := Get(context.Background(), db.DB, pf.DeliveryID); err == nil {
			statuses = append(statuses, s.Status)
		}
	}
	start := time.Now()
	out, err := (&Engine{DB: db.DB, Dial: dialer(srv), Opts: opts}).Run(context.Background(), pf.DeliveryID)
	if err != nil || out.Counts.Sent != 1 {
		t.Fatalf("%v %+v", err, out)
	}
	// 2.5 s without a reply: a progress event at least every second
	// (generously, for a busy machine: 2 s).
	last := start
	for _, at := range append(events, time.Now()) {
		if gap := at.Sub(last); gap > 2*time.Second {
			t.Errorf("no progress for %s", gap)
		}
		last = at
	}
	for _, st := range statuses[:len(statuses)-1] { // the last is the end's
		if st != StatusRunning {
			t.Errorf("status %s while the run was alive, want running", st)
		}
	}
	t.Logf("%d progress events in %s", len(events), time.Since(start).Round(time.Millisecond))
}
