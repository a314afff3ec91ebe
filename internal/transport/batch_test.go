package transport_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

func batchOf(n int, body string) []transport.Envelope {
	msgs := make([]transport.Envelope, n)
	for i := range msgs {
		to := fmt.Sprintf("r%d@example.org", i)
		msgs[i] = transport.Envelope{From: user, To: []string{to},
			Msg: []byte(fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: n%d\r\n\r\n%s", user, to, i, body))}
	}
	return msgs
}

// Each message reaches its own recipient intact (dot-stuffed lines too),
// each reply is matched to its message, and a batch costs far fewer writes
// than two per message: one with CHUNKING, n+1 with DATA.
func TestSendBatchDeliversEachMessageInFewWrites(t *testing.T) {
	for _, noChunking := range []bool{false, true} {
		s := start(t, smtpsrv.Options{})
		var writes atomic.Int64
		cfg := config(s, account.SecurityStartTLS, account.AuthPlain)
		cfg.NoChunking = noChunking
		cfg.DialContext = countingDialer(&writes)
		conn, err := transport.Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		body := "line one\r\n.leading dot\r\n..two dots\r\nend\r\n"
		msgs := batchOf(8, body)
		out := make([]transport.Result, len(msgs))
		before := writes.Load()
		conn.SendBatch(context.Background(), msgs, out)
		got := writes.Load() - before
		for i, r := range out {
			if r.Err != nil || r.Reply.Code != 250 {
				t.Fatalf("chunking=%v message %d: %+v", !noChunking, i, r)
			}
		}
		want := int64(len(msgs) + 1)
		if !noChunking {
			want = 1
		}
		if got != want {
			t.Errorf("chunking=%v: %d writes for %d messages, want %d", !noChunking, got, len(msgs), want)
		}
		// The session is still usable for Send afterwards.
		if _, err := conn.Send(context.Background(), user, []string{"after@example.org"}, build(t, "after")); err != nil {
			t.Fatalf("Send after batch: %v", err)
		}
		conn.Close()
		ms := s.Messages()
		if len(ms) != len(msgs)+1 {
			t.Fatalf("server got %d messages, want %d", len(ms), len(msgs)+1)
		}
		for i, m := range ms[:len(msgs)] {
			if m.To[0] != msgs[i].To[0] || !strings.HasSuffix(string(m.Data), body) || !strings.Contains(string(m.Data), fmt.Sprintf("Subject: n%d\r\n", i)) {
				t.Errorf("chunking=%v message %d: to %v, data %q", !noChunking, i, m.To, m.Data)
			}
		}
	}
}

// A refused recipient fails its own message only; the next transaction
// starts clean (RSET) and goes through.
func TestSendBatchRefusalFailsOnlyItsMessage(t *testing.T) {
	for _, noChunking := range []bool{false, true} {
		s := start(t, smtpsrv.Options{UnknownRecipients: []string{"r2@example.org", "r5@example.org"}})
		cfg := config(s, account.SecurityStartTLS, account.AuthPlain)
		cfg.NoChunking = noChunking
		conn, err := transport.Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		msgs := batchOf(6, "hello\r\n")
		out := make([]transport.Result, len(msgs))
		conn.SendBatch(context.Background(), msgs, out)
		for i, r := range out {
			if i == 2 || i == 5 {
				var te *transport.Error
				if !errors.As(r.Err, &te) || te.Code != 550 || !te.Permanent() || te.Recipient != msgs[i].To[0] || te.Uncertain() || te.NotSent() {
					t.Errorf("chunking=%v message %d: want 550 for its recipient, got %v", !noChunking, i, r.Err)
				}
				continue
			}
			if r.Err != nil {
				t.Errorf("chunking=%v message %d: %v", !noChunking, i, r.Err)
			}
		}
		// The last message was refused: the next batch starts with RSET.
		out = out[:1]
		conn.SendBatch(context.Background(), batchOf(1, "again\r\n"), out)
		if out[0].Err != nil {
			t.Errorf("chunking=%v: batch after a refusal: %v", !noChunking, out[0].Err)
		}
		conn.Close()
		if got := s.Accepted(); got != 5 {
			t.Errorf("chunking=%v: server accepted %d, want 5", !noChunking, got)
		}
	}
}

// A message with two recipients, one refused, is not delivered to the
// other (the server waits for data: the client hangs up); the messages
// after it are NotSent, never Uncertain.
func TestSendBatchPartialRecipientsHangsUp(t *testing.T) {
	s := start(t, smtpsrv.Options{UnknownRecipients: []string{"bad@example.org"}})
	conn, err := transport.Dial(context.Background(), config(s, account.SecurityStartTLS, account.AuthPlain))
	if err != nil {
		t.Fatal(err)
	}
	msgs := batchOf(3, "hello\r\n")
	msgs[1].To = []string{"ok@example.org", "bad@example.org"}
	out := make([]transport.Result, len(msgs))
	conn.SendBatch(context.Background(), msgs, out)
	var te *transport.Error
	if out[0].Err != nil {
		t.Errorf("message 0: %v", out[0].Err)
	}
	if !errors.As(out[1].Err, &te) || te.Code != 550 || te.Recipient != "bad@example.org" {
		t.Errorf("message 1: %v", out[1].Err)
	}
	if !errors.As(out[2].Err, &te) || !te.NotSent() || !te.Temporary() || te.Uncertain() {
		t.Errorf("message 2: want not sent, got %v", out[2].Err)
	}
	if !conn.Broken() {
		t.Error("connection should be closed after the hang-up")
	}
	if s.Accepted() != 1 {
		t.Errorf("server accepted %d, want 1 (message 1 must reach nobody)", s.Accepted())
	}
}

// cutServer is a pipelining SMTP server that takes the first message's
// content and hangs up before its final reply.
func cutServer(t *testing.T, chunking bool) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		tp := textproto.NewConn(c)
		tp.PrintfLine("220 cut ESMTP")
		for {
			line, err := tp.ReadLine()
			if err != nil {
				return
			}
			switch cmd := strings.ToUpper(strings.Fields(line + " x")[0]); cmd {
			case "EHLO":
				ext := "250-cut\r\n250-PIPELINING\r\n"
				if chunking {
					ext += "250-CHUNKING\r\n"
				}
				c.Write([]byte(ext + "250 8BITMIME\r\n"))
			case "DATA":
				tp.PrintfLine("354 go on")
				tp.ReadDotBytes()
				return // content taken, no final reply
			case "BDAT":
				var n int
				fmt.Sscanf(line, "BDAT %d", &n)
				tp.R.Discard(n)
				return
			default:
				tp.PrintfLine("250 ok")
			}
		}
	}()
	return ln.Addr().String()
}

// The connection lost after a message's content was written: that message
// is Uncertain (the server may have taken it); with DATA the later ones
// were never handed over and are NotSent.
func TestSendBatchConnectionLostAfterContentIsUncertain(t *testing.T) {
	for _, chunking := range []bool{false, true} {
		addr := cutServer(t, chunking)
		host, port, _ := net.SplitHostPort(addr)
		var p int
		fmt.Sscan(port, &p)
		conn, err := transport.Dial(context.Background(), transport.Config{Host: host, Port: p, Security: account.SecurityNone, Auth: account.AuthNone})
		if err != nil {
			t.Fatal(err)
		}
		msgs := batchOf(3, "hello\r\n")
		out := make([]transport.Result, len(msgs))
		conn.SendBatch(context.Background(), msgs, out)
		var te *transport.Error
		if !errors.As(out[0].Err, &te) || !te.Uncertain() || !te.Temporary() || te.NotSent() {
			t.Errorf("chunking=%v message 0: want uncertain, got %v", chunking, out[0].Err)
		}
		for _, r := range out[1:] {
			ok := errors.As(r.Err, &te) && (te.Uncertain() || te.NotSent())
			if !chunking {
				ok = ok && te.NotSent() // DATA: their content never left
			}
			if !ok {
				t.Errorf("chunking=%v later message: %v", chunking, r.Err)
			}
		}
		if !conn.Broken() {
			t.Errorf("chunking=%v: connection not marked broken", chunking)
		}
		conn.Close()
	}
}

// strictServer is a pipelining server (no CHUNKING) that keeps a refused
// transaction open as Postfix does: after "554 no valid recipients" a new
// MAIL without RSET is a nested MAIL command.
func strictServer(t *testing.T, refused string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		tp := textproto.NewConn(c)
		tp.PrintfLine("220 strict ESMTP")
		inMail, rcpts := false, 0
		for {
			line, err := tp.ReadLine()
			if err != nil {
				return
			}
			switch cmd := strings.ToUpper(strings.Fields(line + " x")[0]); cmd {
			case "EHLO":
				c.Write([]byte("250-strict\r\n250-PIPELINING\r\n250 8BITMIME\r\n"))
			case "MAIL":
				if inMail {
					tp.PrintfLine("503 5.5.1 Error: nested MAIL command")
					continue
				}
				inMail, rcpts = true, 0
				tp.PrintfLine("250 2.1.0 Ok")
			case "RCPT":
				if strings.Contains(line, refused) {
					tp.PrintfLine("550 5.1.1 <%s>: Recipient address rejected", refused)
					continue
				}
				rcpts++
				tp.PrintfLine("250 2.1.5 Ok")
			case "DATA":
				if rcpts == 0 {
					tp.PrintfLine("554 5.5.1 Error: no valid recipients")
					continue
				}
				tp.PrintfLine("354 go on")
				tp.ReadDotBytes()
				inMail = false
				tp.PrintfLine("250 2.0.0 Ok: queued")
			case "RSET":
				inMail = false
				tp.PrintfLine("250 2.0.0 Ok")
			case "QUIT":
				tp.PrintfLine("221 2.0.0 Bye")
				return
			default:
				tp.PrintfLine("250 ok")
			}
		}
	}()
	return ln.Addr().String()
}

// A batch whose last message was refused leaves the transaction open on a
// strict server: a Send after it must start with RSET, as the next batch
// would.
func TestSendAfterRefusedBatchResets(t *testing.T) {
	addr := strictServer(t, "r1@example.org")
	host, port, _ := net.SplitHostPort(addr)
	var p int
	fmt.Sscan(port, &p)
	conn, err := transport.Dial(context.Background(), transport.Config{Host: host, Port: p, Security: account.SecurityNone, Auth: account.AuthNone})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	msgs := batchOf(2, "hello\r\n")
	out := make([]transport.Result, len(msgs))
	conn.SendBatch(context.Background(), msgs, out)
	if out[0].Err != nil {
		t.Fatalf("message 0: %v", out[0].Err)
	}
	var te *transport.Error
	if !errors.As(out[1].Err, &te) || te.Code != 550 {
		t.Fatalf("message 1: want 550, got %v", out[1].Err)
	}
	m := batchOf(1, "again\r\n")[0]
	if _, err := conn.Send(context.Background(), m.From, m.To, m.Msg); err != nil {
		t.Errorf("Send after a refused batch: %v", err)
	}
}
