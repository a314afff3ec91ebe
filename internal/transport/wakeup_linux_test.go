package transport

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
)

// tricklingServer is a PIPELINING + CHUNKING server that writes every reply
// on its own, a millisecond apart, as go-smtp's server does (but slower,
// so that each one arrives alone to a reader that keeps up; a reader the
// machine runs late may find two). reply gives the reply to a
// command of batch n (batches as the test sends them, by sizes); hold,
// when not nil, is waited on before the replies of the messages at
// holdAt and after in batch 1.
type tricklingServer struct {
	reply  func(batch int, cmd string) string
	sizes  []int // messages in batch 0, 1...; 2 then 16 when nil
	hold   chan struct{}
	holdAt int
	pad    string // added to the greeting and EHLO lines
}

func (s *tricklingServer) start(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		send := func(line string) {
			c.Write([]byte(line + "\r\n"))
			time.Sleep(time.Millisecond)
		}
		sizes := s.sizes
		if sizes == nil {
			sizes = []int{2, 16}
		}
		send("220 trickle ESMTP" + s.pad)
		batch, msg := 0, 0
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			cmd := strings.ToUpper(strings.Fields(line + " x")[0])
			switch cmd {
			case "EHLO":
				c.Write([]byte("250-trickle" + s.pad + "\r\n250-PIPELINING\r\n250 CHUNKING\r\n"))
				continue
			case "QUIT":
				send("221 bye")
				return
			case "MAIL":
				if s.hold != nil && batch == 1 && msg >= s.holdAt {
					<-s.hold
				}
			case "BDAT":
				var n int
				fmt.Sscanf(line, "BDAT %d", &n)
				r.Discard(n)
			}
			send(s.reply(batch, cmd))
			if cmd == "BDAT" {
				if msg++; batch < len(sizes) && msg == sizes[batch] {
					batch, msg = batch+1, 0
				}
			}
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func okReplies(batch int, cmd string) string { return "250 2.0.0 Ok" }

func dialTrickle(t *testing.T, port int) *Conn {
	t.Helper()
	c, err := Dial(context.Background(), Config{Host: "127.0.0.1", Port: port, Security: account.SecurityNone,
		Auth: account.AuthNone, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func trickleBatch(n int) []Envelope {
	msgs := make([]Envelope, n)
	for i := range msgs {
		msgs[i] = Envelope{From: "news@example.com", To: []string{fmt.Sprintf("r%d@example.org", i)},
			Msg: []byte("Subject: hi\r\n\r\nhello\r\n")}
	}
	return msgs
}

// sendTimed runs SendBatch and fails the test if it takes longer than
// limit (a reader asleep on a mark that never comes would wait for the
// 10-minute deadline).
func sendTimed(t *testing.T, c *Conn, msgs []Envelope, limit time.Duration) []Result {
	t.Helper()
	out := make([]Result, len(msgs))
	done := make(chan struct{})
	go func() { c.SendBatch(context.Background(), msgs, out); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("SendBatch of %d messages still waiting after %s", len(msgs), limit)
	}
	return out
}

// A batch whose 63 replies arrive one by one wakes the reader a few times,
// not once a reply — and without the mark the same batch does take a read
// a reply, so the count below measures what the mark saves.
func TestBatchRepliesWakeTheReaderAFewTimes(t *testing.T) {
	// measure sends the batch on a new connection and returns its reads.
	measure := func(mark bool) int {
		port := (&tricklingServer{reply: okReplies}).start(t)
		c := dialTrickle(t, port)
		if !mark {
			c.lim.wake.stop()
		}
		sendTimed(t, c, trickleBatch(2), 10*time.Second) // the server's shortest reply is learnt
		before := c.lim.reads
		out := sendTimed(t, c, trickleBatch(16), 10*time.Second)
		reads := c.lim.reads - before
		for i, r := range out {
			if r.Err != nil || r.Reply.Code != 250 {
				t.Fatalf("message %d: %v %v", i, r.Reply, r.Err)
			}
		}
		t.Logf("mark %v: %d reads for 63 replies", mark, reads)
		return reads
	}
	if reads := measure(true); reads > 16 {
		t.Errorf("with the low-water mark: %d reads for a batch of 16 messages, want at most 16", reads)
	}
	// Without the mark a reply is read alone only if the reader gets to
	// it before the next one arrives, a millisecond later: on a busy
	// machine it now and then does not, and two replies share a read.
	// That says nothing of the mark; only a server whose replies never
	// come apart does, so the measure is tried a few times.
	reads := 0
	for try := 0; try < 3 && reads < 63; try++ {
		reads = measure(false)
	}
	if reads < 63 {
		t.Errorf("without the mark: only %d reads for 63 replies arriving apart; the test no longer measures the mark", reads)
	}
}

// Replies shorter than any the server sent before (a first refusal, terse)
// leave the mark unmet: the watchdog lowers it, the batch completes with
// every refusal read, in moments rather than at the deadline.
func TestShorterRepliesDoNotStallABatch(t *testing.T) {
	long := "250 2.0.0 Accepted, and this reply is a good deal longer than the ones that follow"
	port := (&tricklingServer{sizes: []int{2, 4}, pad: strings.Repeat(" and more", 10), reply: func(batch int, cmd string) string {
		switch {
		case batch == 0:
			return long
		case cmd == "RCPT":
			return "550 no"
		case cmd == "BDAT":
			return "554 no"
		default:
			return "250 k"
		}
	}}).start(t)
	c := dialTrickle(t, port)
	sendTimed(t, c, trickleBatch(2), 10*time.Second)
	// 15 replies of 7 or 8 bytes, where the mark expects 85 each.
	out := sendTimed(t, c, trickleBatch(4), 5*time.Second)
	for i, r := range out {
		if r.Err == nil {
			t.Fatalf("message %d was accepted; the server refused it", i)
		}
		if e, ok := r.Err.(*Error); !ok || e.Code != 550 {
			t.Errorf("message %d: %v, want the RCPT's 550", i, r.Err)
		}
	}
}

// Stop drops the mark: a reply that arrives in the grace is read although
// it is far less than the mark asked for, so its message counts as sent,
// not unknown.
func TestStopReadsRepliesThatArriveInTheGrace(t *testing.T) {
	srv := &tricklingServer{reply: okReplies, hold: make(chan struct{}), holdAt: 8}
	port := srv.start(t)
	t.Cleanup(func() { close(srv.hold) }) // runs before the server's own
	c := dialTrickle(t, port)
	sendTimed(t, c, trickleBatch(2), 10*time.Second)
	msgs := trickleBatch(16)
	out := make([]Result, len(msgs))
	done := make(chan struct{})
	go func() { c.SendBatch(context.Background(), msgs, out); close(done) }()
	// Messages 0-7 answered; the reader now sleeps on a mark of many
	// replies. Stop, then let the server answer message 8 only: far
	// fewer bytes than the mark.
	time.Sleep(200 * time.Millisecond)
	c.Stop(time.Now().Add(time.Second))
	srv.hold <- struct{}{}
	<-done
	for i := 0; i <= 8; i++ {
		if out[i].Err != nil {
			t.Errorf("message %d: %v, want sent (its replies came before the deadline)", i, out[i].Err)
		}
	}
	if e, ok := out[9].Err.(*Error); !ok || !e.Uncertain() {
		t.Errorf("message 9: %v, want uncertain (no reply before the deadline)", out[9].Err)
	}
}

func TestLowWaterMark(t *testing.T) {
	for _, c := range []struct{ remaining, partial, minLen, want int }{
		{0, 0, 14, 1},        // nothing due
		{1, 0, 14, 14},       // one reply: at least the shortest
		{1, 10, 14, 4},       // ... of which 10 bytes came
		{1, 20, 14, 1},       // longer than the shortest: any byte may end it
		{2, 0, 0, 1},         // no reply seen yet: nothing known
		{3, 5, 14, 37},       // 42 for three, 5 came
		{63, 0, 14, maxMark}, // capped
	} {
		if got := lowWaterMark(c.remaining, c.partial, c.minLen); got != c.want {
			t.Errorf("lowWaterMark(%d, %d, %d) = %d, want %d", c.remaining, c.partial, c.minLen, got, c.want)
		}
	}
}
