package delivery

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
)

// claimChecker is a BatchMailer that, before each window goes out, reads
// the journal as another process would (the database's committed state)
// and records how many rows are `sending` and whether each message of the
// window is one of them.
type claimChecker struct {
	*smtptest.Client
	db *sql.DB
	id int64
	mu *sync.Mutex
	st *claimStats
}

type claimStats struct {
	windows, maxSending int
	unclaimed           []string
}

func (c claimChecker) SendBatch(ctx context.Context, from string, items []Item) {
	var sending int
	c.db.QueryRow(`SELECT COUNT(*) FROM delivery_recipients WHERE delivery_id = ? AND state = 'sending'`, c.id).Scan(&sending)
	for _, it := range items {
		var state string
		c.db.QueryRow(`SELECT state FROM delivery_recipients WHERE delivery_id = ? AND email = ?`, c.id, it.To[0]).Scan(&state)
		if state != stateSending {
			c.mu.Lock()
			c.st.unclaimed = append(c.st.unclaimed, fmt.Sprintf("%s (%s)", it.To[0], state))
			c.mu.Unlock()
		}
	}
	c.mu.Lock()
	c.st.windows++
	c.st.maxSending = max(c.st.maxSending, sending)
	c.mu.Unlock()
	for i := range items {
		items[i].Reply, items[i].Err = c.Send(ctx, from, items[i].To, items[i].Msg)
	}
}

// The crash bound, checked at every window: a message is written only
// once its row is durably `sending`, and no more than Connections ×
// Window rows are ever `sending` at once, so no more can be left unknown
// by a crash, whenever it comes.
func TestAtMostConnectionsTimesWindowRowsSending(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, func(s *smtptest.Server) { s.Discard = true })
	pf, err := Prepare(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(600))))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	st := &claimStats{}
	dial := func(ctx context.Context, refresh bool) (Mailer, error) {
		c, err := smtptest.Dial(srv.Addr, "", "")
		if err != nil {
			return nil, err
		}
		return claimChecker{c, db.DB, pf.DeliveryID, &mu, st}, nil
	}
	opts := fastOpts()
	opts.Limits.Connections, opts.Limits.PerConnection, opts.Window = 3, 100, 8
	out, err := (&Engine{DB: db.DB, Dial: dial, Opts: opts}).Run(context.Background(), pf.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	if out.Counts.Sent != 600 || srv.Count() != 600 {
		t.Fatalf("outcome %+v; server got %d", out.Counts, srv.Count())
	}
	countsMatchJournal(t, db.DB, pf.DeliveryID, out.Counts)
	if len(st.unclaimed) > 0 {
		t.Errorf("%d message(s) written before their row was marked sending: %s", len(st.unclaimed), strings.Join(st.unclaimed[:min(5, len(st.unclaimed))], ", "))
	}
	if bound := 3 * 8; st.maxSending > bound {
		t.Errorf("%d rows were sending at once, over the bound of %d", st.maxSending, bound)
	}
	if st.windows < 600/8 {
		t.Errorf("%d windows for 600 messages of at most 8", st.windows)
	}
	t.Logf("%d windows, at most %d rows sending", st.windows, st.maxSending)
}

// countsMatchJournal: the counts a run reports (kept as it committed) are
// those in the database.
func countsMatchJournal(t *testing.T, db *sql.DB, id int64, got Counts) {
	t.Helper()
	want, err := countStates(context.Background(), db, id)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("the run reports %+v, the journal has %+v", got, want)
	}
}

// Every row refused once (451), then retried, on several connections:
// the retries are read back in pages while other rows are out, and each
// row is handed out once at a time (a row handed out twice in one
// transaction would fail the claim, or be sent twice).
func TestRetriesOfManyRowsAreHandedOutOnce(t *testing.T) {
	db := openDB(t)
	var mu sync.Mutex
	tries := map[string]int{}
	srv := startServer(t, func(s *smtptest.Server) {
		s.RcptReply = func(rcpt string) error {
			mu.Lock()
			defer mu.Unlock()
			if tries[rcpt]++; tries[rcpt] == 1 {
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Try again later"}
			}
			return nil
		}
	})
	opts := fastOpts()
	opts.Limits.Connections, opts.Limits.PerConnection, opts.Window = 3, 0, 8
	pf, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(700))), dialer(srv), opts)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != StatusDone || out.Counts.Sent != 700 {
		t.Fatalf("outcome %s %+v (%s)", out.Status, out.Counts, out.Reason)
	}
	byRecipient(t, srv.Messages()) // fails on one received twice
	countsMatchJournal(t, db.DB, pf.DeliveryID, out.Counts)
}
