package delivery

import (
	"context"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
)

// Another process showing a running delivery (the console polls every
// second) reads the counts and rate the running process stamps with its
// heartbeat, instead of counting every row's state (~0.65 s a million
// rows, per poll, per tab); once the run is over it counts the rows, so
// what it shows then is exact.
func TestProgressOfARunningDeliveryIsReadFromItsStamp(t *testing.T) {
	db := openDB(t)
	other, counted := countingDB(t, db, "GROUP BY state")
	old := heartbeatEvery
	heartbeatEvery = 50 * time.Millisecond
	defer func() { heartbeatEvery = old }()

	srv := startServer(t, func(s *smtptest.Server) { s.Delay = 20 * time.Millisecond })
	ctx := context.Background()
	pf, err := Prepare(ctx, db.DB, plan(writeList(t, "l.csv", listOf(120))))
	if err != nil {
		t.Fatal(err)
	}
	opts := fastOpts()
	opts.Limits.Connections, opts.Window = 1, 4
	e := &Engine{DB: db.DB, Dial: dialer(srv), Opts: opts}
	done := make(chan *Outcome, 1)
	go func() {
		out, err := e.Run(ctx, pf.DeliveryID)
		if err != nil {
			t.Error(err)
		}
		done <- out
	}()

	var stamped *Summary
	deadline := time.Now().Add(20 * time.Second)
	for stamped == nil && time.Now().Before(deadline) {
		time.Sleep(30 * time.Millisecond)
		before := counted.Load()
		s, err := Get(ctx, other, pf.DeliveryID)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status == StatusRunning && counted.Load() == before && s.Counts.Sent > 0 {
			stamped = s
		}
	}
	if stamped == nil {
		t.Fatal("no Get of the running delivery was answered from its stamp")
	}
	c := stamped.Counts
	if c.Pending+c.Sending+c.Sent != 120 || stamped.Rate <= 0 {
		t.Errorf("stamped counts %+v, rate %.1f: want 120 rows in all and a rate", c, stamped.Rate)
	}

	out := <-done
	before := counted.Load()
	s, err := Get(ctx, other, pf.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	if counted.Load() == before || s.Counts != out.Counts || s.Counts.Sent != 120 || s.Rate != 0 {
		t.Errorf("after the run: counts %+v (counted: %v), rate %.1f; want the run's %+v, counted from the rows",
			s.Counts, counted.Load() > before, s.Rate, out.Counts)
	}
}
