package delivery

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/apisrv"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// A stop (what Ctrl-C does) against a slow server: no message is begun
// after it — the server sees no MAIL command arrive later — the replies
// already due are awaited for StopGrace only, and the run ends paused with
// every row either sent (and received), unknown (with the server when the
// run gave up on it) or not sent; nothing is left `sending`.
func TestStopAgainstSlowServerWritesNothingNewAndEndsSoon(t *testing.T) {
	for _, noChunking := range []bool{false, true} {
		name := map[bool]string{false: "BDAT", true: "DATA"}[noChunking]
		t.Run(name, func(t *testing.T) {
			db := openDB(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var once sync.Once
			var signal time.Time
			srv := startServer(t, func(s *smtptest.Server) {
				s.Delay = time.Second // each message answered a second after it is read: a window takes 8 s
				s.Arrivals = true
				s.OnData = func(n int64) {
					if n == 2 {
						once.Do(func() {
							signal = time.Now()
							cancel()
						})
					}
				}
			})
			pf, err := Prepare(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(100))))
			if err != nil {
				t.Fatal(err)
			}
			opts := fastOpts()
			opts.Limits.Connections, opts.Limits.PerConnection, opts.Window = 2, 0, 8
			dial := transportDialerOpts(srv.Addr, noChunking)
			out, err := (&Engine{DB: db.DB, Dial: dial, Opts: opts}).Run(ctx, pf.DeliveryID)
			took := time.Since(signal)
			if err != nil {
				t.Fatal(err)
			}
			if n := srv.MailCommandsSince(signal); n != 0 {
				t.Errorf("%d message(s) begun after the stop", n)
			}
			// StopGrace (1 s) plus the QUIT and the journal; generous for
			// a busy machine.
			if took > 5*time.Second {
				t.Errorf("the run took %s to end after the stop", took)
			}
			if out.Status != StatusPaused || out.ExitCode() != 5 || out.Counts.Sending != 0 {
				t.Fatalf("outcome %+v", out)
			}
			if bound := 2 * 8; out.Counts.Unknown > bound {
				t.Errorf("%d unknown, over the bound of %d", out.Counts.Unknown, bound)
			}
			countsMatchJournal(t, db.DB, pf.DeliveryID, out.Counts)
			checkJournalAgainstServer(t, db, pf.DeliveryID, srv)
			t.Logf("ended %s after the stop; %+v", took.Round(time.Millisecond), out.Counts)
		})
	}
}

// checkJournalAgainstServer: every row sent was received once; a row
// received and not sent is unknown; a pending one was never received.
func checkJournalAgainstServer(t *testing.T, db *store.DB, id int64, srv *smtptest.Server) {
	t.Helper()
	srv.WaitIdle(10 * time.Second)
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
	}
	Report(context.Background(), db.DB, id, func(o Outcomes) error {
		n := got[o.Email]
		switch {
		case n > 1:
			t.Errorf("%s received %d times", o.Email, n)
		case o.State == stateSent && n != 1:
			t.Errorf("%s is sent but was not received", o.Email)
		case o.State == statePending && n != 0:
			t.Errorf("%s is pending but was received", o.Email)
		case n == 1 && o.State != stateSent && o.State != stateUnknown:
			t.Errorf("%s was received but is %s", o.Email, o.State)
		}
		return nil
	})
}

// A stop reaches an HTTPS API session too: a request the service holds
// is given up at StopGrace (its message unknown: the service may have
// it), none is begun after the stop, and the run ends soon.
func TestStopCutsASlowAPIRequest(t *testing.T) {
	var once sync.Once
	var signal time.Time
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	api := startAPI(t, account.ViaGraph, apisrv.Options{OnAccept: func(n int64) {
		once.Do(func() {
			signal = time.Now()
			cancel()
		})
		time.Sleep(5 * time.Second) // answer each message 5 s after taking it
	}})
	db := openDB(t)
	pf, err := Prepare(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(40))))
	if err != nil {
		t.Fatal(err)
	}
	opts := apiOpts(account.ViaGraph)
	out, err := (&Engine{DB: db.DB, Dial: TransportDialer(api.Config), Opts: opts}).Run(ctx, pf.DeliveryID)
	took := time.Since(signal)
	if err != nil {
		t.Fatal(err)
	}
	requests := api.API.Requests()
	if took > 3500*time.Millisecond { // StopGrace (1 s); a reply would take 5
		t.Errorf("the run took %s to end after the stop", took)
	}
	if out.Status != StatusPaused || out.Counts.Sending != 0 || out.Counts.Unknown == 0 || out.Counts.Sent != 0 {
		t.Fatalf("outcome %+v", out.Counts)
	}
	if requests > int64(opts.Limits.Connections) {
		t.Errorf("%d requests for %d connections: some began after the stop", requests, opts.Limits.Connections)
	}
	countsMatchJournal(t, db.DB, pf.DeliveryID, out.Counts)
	t.Logf("ended %s after the stop; %+v", took.Round(time.Millisecond), out.Counts)
}
