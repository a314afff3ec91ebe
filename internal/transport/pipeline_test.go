package transport_test

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// writeCounter counts the writes (TLS records, here) the client makes.
type writeCounter struct {
	net.Conn
	n *atomic.Int64
}

func (w writeCounter) Write(b []byte) (int, error) {
	w.n.Add(1)
	return w.Conn.Write(b)
}

func countingDialer(n *atomic.Int64) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return writeCounter{c, n}, nil
	}
}

// With PIPELINING, MAIL+RCPT+DATA go out in one write and the message in
// a second; without it every command waits for its reply.
func TestPipeliningSavesRoundTrips(t *testing.T) {
	for _, c := range []struct {
		noPipelining bool
		writes       int64
	}{{false, 2}, {true, 4}} {
		s := start(t, smtpsrv.Options{})
		var n atomic.Int64
		cfg := config(s, account.SecurityStartTLS, account.AuthPlain)
		cfg.NoPipelining = c.noPipelining
		cfg.DialContext = countingDialer(&n)
		conn, err := transport.Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		before := n.Load()
		if _, err := conn.Send(context.Background(), user, []string{"a@example.org"}, build(t, "x")); err != nil {
			t.Fatal(err)
		}
		if got := n.Load() - before; got != c.writes {
			t.Errorf("NoPipelining=%v: %d writes for one message, want %d", c.noPipelining, got, c.writes)
		}
		conn.Close()
		if s.Accepted() != 1 {
			t.Errorf("accepted %d", s.Accepted())
		}
	}
}

// A refused recipient among several: nothing is delivered to the others
// (no empty message), the error names the recipient, and the next message
// goes through on a new connection if the old one had to be dropped.
func TestRefusedRecipientAmongSeveral(t *testing.T) {
	for _, noPipelining := range []bool{false, true} {
		s2 := start(t, smtpsrv.Options{Security: smtpsrv.ImplicitTLS, UnknownRecipients: []string{"gone@example.org"}})
		cfg := config(s2, account.SecurityTLS, account.AuthPlain)
		cfg.NoPipelining = noPipelining
		conn, err := transport.Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Send(context.Background(), user, []string{"a@example.org", "gone@example.org", "b@example.org"}, build(t, "x"))
		var te *transport.Error
		if !errors.As(err, &te) || te.Recipient != "gone@example.org" || te.Code != 550 || !te.Permanent() {
			t.Fatalf("NoPipelining=%v: err = %v", noPipelining, err)
		}
		if conn.Broken() {
			conn.Close()
			if conn, err = transport.Dial(context.Background(), cfg); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := conn.Send(context.Background(), user, []string{"a@example.org"}, build(t, "y")); err != nil {
			t.Fatalf("NoPipelining=%v: next message: %v", noPipelining, err)
		}
		conn.Close()
		if msgs := s2.Messages(); len(msgs) != 1 || len(msgs[0].To) != 1 {
			t.Fatalf("NoPipelining=%v: server accepted %d messages (%+v); want only the second", noPipelining, len(msgs), msgs)
		}
	}
}
