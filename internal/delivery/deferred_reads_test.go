package delivery

import (
	"context"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/store/storetest"
)

// The queries for deferred rows read every row of the delivery (no index
// on state): a run that defers nothing must not ask them, not even at its
// end while the last windows are out (it did at every commit then, a
// whole-database read each on a large list). A run that starts with rows
// deferred (by the run before it) still sends them.
func TestDeferredRowsAskedForOnlyWhenThereAreSome(t *testing.T) {
	db := openDB(t)
	counted, n := storetest.CountingHandle(t, db, "state = 'deferred'")
	srv := startServer(t, nil)
	ctx := context.Background()
	pf, out, err := Deliver(ctx, counted, plan(writeList(t, "l.csv", listOf(1100))), dialer(srv), fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != StatusDone || out.Counts.Sent != 1100 {
		t.Fatalf("outcome %+v", out)
	}
	countsMatchJournal(t, db.DB, pf.DeliveryID, out.Counts)
	if q := n.Load(); q != 0 {
		t.Errorf("%d queries for deferred rows in a run that deferred none", q)
	}

	pf, err = Prepare(ctx, counted, plan(writeList(t, "m.csv", listOf(30))))
	if err != nil {
		t.Fatal(err)
	}
	// As a run before this one leaves it: some rows deferred, paused.
	if _, err := db.ExecContext(ctx, `UPDATE delivery_recipients SET state = 'deferred', attempts = 1, next_try = 0
		WHERE delivery_id = ? AND row % 3 = 0`, pf.DeliveryID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE deliveries SET status = 'paused', started_at = 1 WHERE id = ?`, pf.DeliveryID); err != nil {
		t.Fatal(err)
	}
	e := &Engine{DB: counted, Dial: dialer(srv), Opts: fastOpts()}
	if out, err = e.Run(ctx, pf.DeliveryID); err != nil {
		t.Fatal(err)
	}
	if out.Status != StatusDone || out.Counts.Sent != 30 || out.Counts.Deferred != 0 {
		t.Errorf("run that started with rows deferred: %+v", out)
	}
	countsMatchJournal(t, db.DB, pf.DeliveryID, out.Counts)
	if n.Load() == 0 {
		t.Errorf("no query for the deferred rows")
	}
}
