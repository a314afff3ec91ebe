package smtptest

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// arrivals logs when each MAIL command reached the server: a pipelining
// client writes several before the server gets to them, so the time the
// server handles one says nothing of when the client wrote it.
type arrivals struct {
	mu    sync.Mutex
	times []time.Time
}

func (a *arrivals) add(t time.Time, n int) {
	a.mu.Lock()
	for ; n > 0; n-- {
		a.times = append(a.times, t)
	}
	a.mu.Unlock()
}

// MailCommandsSince is the number of MAIL commands (messages begun) whose
// bytes reached the server at or after t (plain-text servers only: with
// TLS the bytes cannot be read as they arrive).
func (s *Server) MailCommandsSince(t time.Time) int {
	a := &s.arrivals
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, at := range a.times {
		if !at.Before(t) {
			n++
		}
	}
	return n
}

// eagerListener's connections read everything the client sends as soon
// as it arrives, noting the time of each MAIL command, and hand it to the
// SMTP server when it asks.
type eagerListener struct {
	net.Listener
	log *arrivals
}

func (l *eagerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	e := &eagerConn{Conn: c, gone: make(chan struct{})}
	e.cond = sync.NewCond(&e.mu)
	go e.pump(l.log)
	return e, nil
}

type eagerConn struct {
	net.Conn
	gone chan struct{} // closed when the client has hung up
	mu   sync.Mutex
	cond *sync.Cond
	buf  bytes.Buffer
	err  error
}

var mailCmd = []byte("\nMAIL FROM:")

func (e *eagerConn) pump(log *arrivals) {
	chunk := make([]byte, 32<<10)
	tail := []byte{'\n'} // the stream's start counts as a line start
	for {
		n, err := e.Conn.Read(chunk)
		if n > 0 {
			// Count commands across chunk boundaries with the previous tail.
			seen := append(tail, chunk[:n]...)
			log.add(time.Now(), bytes.Count(seen, mailCmd))
			tail = append(tail[:0], seen[max(0, len(seen)-len(mailCmd)+1):]...)
			e.mu.Lock()
			e.buf.Write(chunk[:n])
			e.cond.Broadcast()
			e.mu.Unlock()
		}
		if err != nil {
			e.mu.Lock()
			// The client hung up: what it had sent and the server has not
			// read yet is dropped with the session, as a server that
			// notices the hang-up (a failed reply) does.
			e.buf.Reset()
			e.err = err
			e.cond.Broadcast()
			e.mu.Unlock()
			close(e.gone)
			return
		}
	}
}

func (e *eagerConn) Read(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for e.buf.Len() == 0 && e.err == nil {
		e.cond.Wait()
	}
	if e.buf.Len() > 0 {
		return e.buf.Read(p)
	}
	if e.err == io.EOF {
		return 0, io.EOF
	}
	return 0, e.err
}

// SetReadDeadline: reads wait on the pump, which has no deadline; the
// server's read timeouts are not used by the tests.
func (e *eagerConn) SetReadDeadline(time.Time) error { return nil }
func (e *eagerConn) SetDeadline(t time.Time) error   { return e.Conn.SetWriteDeadline(t) }
