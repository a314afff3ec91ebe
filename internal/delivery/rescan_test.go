package delivery

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/store/storetest"
)

// refuseOnce is a BatchMailer whose session is refused once, at the
// message for at, as an expired token is at MAIL: it and the rest of its
// batch are put back pending, sent again on a session with a refreshed
// token.
type refuseOnce struct {
	*smtptest.Client
	at    string
	broke *atomic.Bool
}

func (b refuseOnce) SendBatch(ctx context.Context, from string, items []Item) {
	broken := false
	for i := range items {
		it := &items[i]
		if !broken && it.To[0] == b.at && b.broke.CompareAndSwap(false, true) {
			broken = true
		}
		if broken {
			it.Err = authErr{}
			continue
		}
		it.Reply, it.Err = b.Send(ctx, from, it.To, it.Msg)
	}
}

// Rows a refused batch put back behind the ledger's cursor are read again
// from the first of them, not from the delivery's first row: the pass that
// finds them need not read every row already sent (on a large delivery,
// nearly all of them). Each recipient still gets one message.
func TestPutBackRowsReadAgainFromTheFirstOfThem(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	h, rec := storetest.RecordingHandle(t, db, "state = 'pending' ORDER BY id")
	var broke atomic.Bool
	dial := func(ctx context.Context, refresh bool) (Mailer, error) {
		c, err := smtptest.Dial(srv.Addr, "", "")
		if err != nil {
			return nil, err
		}
		return refuseOnce{c, "user150@example.com", &broke}, nil
	}
	opts := fastOpts()
	opts.Limits.PerConnection = 0
	pf, out, err := Deliver(context.Background(), h, plan(writeList(t, "l.csv", listOf(200))), dial, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !broke.Load() || out.Counts.Sent != 200 {
		t.Fatalf("broke %v, outcome %+v", broke.Load(), out.Counts)
	}
	if got := byRecipient(t, srv.Messages()); len(got) != 200 { // fails on a recipient received twice
		t.Fatalf("server received %d recipients, want 200", len(got))
	}
	var first int64
	if err := db.QueryRow(`SELECT id FROM delivery_recipients WHERE delivery_id = ? AND email = 'user150@example.com'`, pf.DeliveryID).Scan(&first); err != nil {
		t.Fatal(err)
	}
	fromStart, fromFirst := 0, 0
	var cursors []int64
	for _, a := range rec.All() {
		c, _ := a[0].(int64)
		cursors = append(cursors, c)
		switch c {
		case 0:
			fromStart++
		case first - 1:
			fromFirst++
		}
	}
	if fromStart != 1 || fromFirst != 1 {
		t.Fatalf("pending rows read after %v; want the start once, then again after %d (the first put back, less one)", cursors, first-1)
	}
}
