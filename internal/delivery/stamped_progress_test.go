package delivery

import (
	"context"
	"database/sql"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/store"
	"github.com/bluemoon-mail/bluemoon/internal/store/storetest"
)

// Another process showing a running delivery (the console polls every
// second) reads the counts and rate the running process stamps with its
// heartbeat, instead of counting every row's state (~0.65 s a million
// rows, per poll, per tab); once the run is over it counts the rows, so
// what it shows then is exact.
func TestProgressOfARunningDeliveryIsReadFromItsStamp(t *testing.T) {
	db := openDB(t)
	other, counted := storetest.CountingHandle(t, db, "GROUP BY state")
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
	if counted.Load() != before || s.Status != StatusDone || s.Counts != out.Counts || s.Counts.Sent != 120 || s.Rate != 0 {
		t.Errorf("after the run: %s, counts %+v (counted: %v), rate %.1f; want done, the run's %+v from its final stamp",
			s.Status, s.Counts, counted.Load() > before, s.Rate, out.Counts)
	}
	countsMatchJournal(t, db.DB, pf.DeliveryID, s.Counts)
}

// A delivery that ended done or cancelled is listed from the counts its
// run stamped as it ended, not by counting every row of every finished
// delivery at each listing; once its rows change again (failed ones put
// back by ReopenFailed, unknown ones by Recover) it is counted again, and
// its next end stamps anew.
func TestFinishedDeliveryIsListedFromItsFinalStamp(t *testing.T) {
	db := openDB(t)
	other, counted := storetest.CountingHandle(t, db, "GROUP BY state")
	refuse := atomic.Bool{}
	refuse.Store(true)
	srv := startServer(t, func(s *smtptest.Server) {
		s.RcptReply = func(rcpt string) error {
			if refuse.Load() && strings.HasPrefix(rcpt, "user1") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
			}
			return nil
		}
	})
	ctx := context.Background()
	pf, out, err := Deliver(ctx, db.DB, plan(writeList(t, "l.csv", listOf(40))), dialer(srv), fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != StatusDone || out.Counts.Failed == 0 || out.Counts.Sent == 0 {
		t.Fatalf("first run: %+v; want done with some refused", out)
	}
	listed := func(when string) *Summary { return listedOnce(t, db, other, pf.DeliveryID, when) }
	before := counted.Load()
	if s := listed("done"); counted.Load() != before || s.Counts != out.Counts {
		t.Errorf("done: listed %+v, counted %d time(s); want the run's %+v, counted 0 times", s.Counts, counted.Load()-before, out.Counts)
	}

	n, err := ReopenFailed(ctx, db.DB, pf.DeliveryID)
	if err != nil || n != out.Counts.Failed {
		t.Fatalf("reopen: %d, %v; want %d", n, err, out.Counts.Failed)
	}
	before = counted.Load()
	if s := listed("reopened"); counted.Load() == before || s.Status != StatusPaused || s.Counts.Pending != n || s.Counts.Failed != 0 {
		t.Errorf("reopened: %s %+v, counted: %v; want paused with %d pending, counted from the rows", s.Status, s.Counts, counted.Load() > before, n)
	}

	refuse.Store(false)
	e := &Engine{DB: db.DB, Dial: dialer(srv), Opts: fastOpts()}
	out2, err := e.Run(ctx, pf.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	before = counted.Load()
	if s := listed("done again"); counted.Load() != before || s.Status != StatusDone || s.Counts != out2.Counts || s.Counts.Sent != 40 {
		t.Errorf("done again: %s %+v, counted: %v; want done with 40 sent, from the new stamp", s.Status, s.Counts, counted.Load() > before)
	}
}

// A delivery paused by its run (a pause request here; the daily limit, a
// sign-in or Ctrl-C end a run the same way) is listed, and resumed, from
// the counts the run stamped as it ended: one paused for days by a daily
// limit is otherwise counted row by row at every listing (the console's
// list, every refresh). Cancelled while not running, it is counted once,
// as it is cancelled; its rows put back (ReopenFailed, Recover) are
// counted again.
func TestPausedDeliveryIsListedFromItsFinalStamp(t *testing.T) {
	db := openDB(t)
	other, counted := storetest.CountingHandle(t, db, "GROUP BY state")
	srv := startServer(t, func(s *smtptest.Server) {
		s.RcptReply = func(rcpt string) error {
			if rcpt == "user2@example.com" {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
			}
			return nil
		}
	})
	ctx := context.Background()
	pf, err := Prepare(ctx, db.DB, plan(writeList(t, "l.csv", listOf(30))))
	if err != nil {
		t.Fatal(err)
	}
	opts := fastOpts()
	opts.Limits.PerMinute = 600 // one every 100ms: slow enough to pause midway
	opts.Progress = func(p Progress) {
		if p.Sent >= 3 {
			RequestPause(ctx, db.DB, pf.DeliveryID)
		}
	}
	run := func(ctx context.Context, when string, dial Dialer) *Outcome {
		t.Helper()
		out, err := (&Engine{DB: other, Dial: dial, Opts: opts}).Run(ctx, pf.DeliveryID)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		return out
	}
	listed := func(when string) *Summary { return listedOnce(t, db, other, pf.DeliveryID, when) }

	out := run(ctx, "first run", dialer(srv))
	if out.Status != StatusPaused || out.Counts.Sent < 3 || out.Counts.Failed != 1 || out.Counts.Pending == 0 {
		t.Fatalf("first run: %+v; want paused midway, one refused", out)
	}
	before := counted.Load()
	if s := listed("paused"); counted.Load() != before || s.Status != StatusPaused || s.Counts != out.Counts {
		t.Errorf("paused: %s %+v, counted %d time(s); want paused with the run's %+v, counted 0 times",
			s.Status, s.Counts, counted.Load()-before, out.Counts)
	}

	// Resumed: the run starts from the stamp too, and pauses again.
	before = counted.Load()
	out2 := run(ctx, "second run", dialer(srv))
	if out2.Status != StatusPaused || out2.Counts.Sent <= out.Counts.Sent || counted.Load() != before {
		t.Errorf("second run: %+v, counted %d time(s); want paused further on, counted 0 times", out2, counted.Load()-before)
	}
	countsMatchJournal(t, db.DB, pf.DeliveryID, out2.Counts)

	// The refused row put back: the stamp no longer holds.
	if n, err := ReopenFailed(ctx, db.DB, pf.DeliveryID); err != nil || n != 1 {
		t.Fatalf("reopen: %d, %v", n, err)
	}
	before = counted.Load()
	if s := listed("reopened"); counted.Load() == before || s.Counts.Failed != 0 || s.Counts.Pending != out2.Counts.Pending+1 {
		t.Errorf("reopened while paused: %+v, counted: %v; want the refused row pending again, counted from the rows", s.Counts, counted.Load() > before)
	}

	// A Ctrl-C while messages are with a slow server leaves them unknown
	// (StopGrace); the stamp says so, and holds until Recover puts them
	// back to be sent again.
	slow := startServer(t, func(s *smtptest.Server) { s.Delay = 2 * time.Second })
	opts.Progress, opts.StopGrace = nil, 100*time.Millisecond
	cctx, ctrlC := context.WithCancel(ctx)
	time.AfterFunc(300*time.Millisecond, ctrlC)
	out3 := run(cctx, "third run", transportDialer(slow.Addr))
	if out3.Status != StatusPaused || out3.Counts.Unknown == 0 {
		t.Fatalf("third run: %+v; want paused with some unknown", out3)
	}
	before = counted.Load()
	if s := listed("unknown"); counted.Load() != before || s.Counts != out3.Counts {
		t.Errorf("paused with unknown: %+v, counted %d time(s); want the run's %+v, counted 0 times", s.Counts, counted.Load()-before, out3.Counts)
	}
	if rec, err := Recover(ctx, db.DB, pf.DeliveryID, true); err != nil || !rec.Resent {
		t.Fatalf("recover: %+v, %v", rec, err)
	}
	before = counted.Load()
	if s := listed("resent"); counted.Load() == before || s.Counts.Unknown != 0 || s.Counts.Pending != out3.Counts.Pending+out3.Counts.Unknown {
		t.Errorf("unknown put back: %+v, counted: %v; want them pending again, counted from the rows", s.Counts, counted.Load() > before)
	}
	out2.Counts.Pending = out3.Counts.Pending + out3.Counts.Unknown - 1 // for the cancel below

	// Cancelled while not running: counted once, then listed from the stamp.
	if _, err := RequestCancel(ctx, db.DB, pf.DeliveryID); err != nil {
		t.Fatal(err)
	}
	before = counted.Load()
	s := listed("cancelled")
	if counted.Load() != before || s.Status != StatusCancelled || s.Counts.Pending != 0 || s.Counts.Cancelled != out2.Counts.Pending+1 {
		t.Errorf("cancelled: %s %+v, counted %d time(s); want cancelled with %d cancelled, counted 0 times",
			s.Status, s.Counts, counted.Load()-before, out2.Counts.Pending+1)
	}
}

// listedOnce lists the deliveries through other and returns delivery id's
// summary, its counts checked against the journal (through db).
func listedOnce(t *testing.T, db *store.DB, other *sql.DB, id int64, when string) *Summary {
	t.Helper()
	all, err := List(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.ID == id {
			countsMatchJournal(t, db.DB, s.ID, s.Counts)
			return s
		}
	}
	t.Fatalf("%s: delivery %d not listed", when, id)
	return nil
}
