package transport

import (
	"errors"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"
)

// stopState lets another goroutine make a session finish soon (a paused or
// interrupted delivery) without cutting off what is already with the
// server for longer than it must.
type stopState struct {
	mu       sync.Mutex
	stopping atomic.Bool // no new message is written
	busy     bool        // a Send or SendBatch is under way
	cutOff   atomic.Bool // the deadline passed while busy: the connection was closed
	timer    *time.Timer
}

// errCutOff replaces the network error of a connection Stop closed.
var errCutOff = errors.New("no reply before the deadline of a pause or Ctrl-C, so the connection was closed: the server may or may not have taken the message")

// Stop asks the session to finish soon; it is safe to call from any
// goroutine, and at most once matters. From then on Send and SendBatch
// write no message (they return it NotSent); replies to messages already
// written are awaited until deadline, and if one is still missing then the
// connection is closed, its message Uncertain. Close says QUIT but waits
// only a moment for the reply.
func (c *Conn) Stop(deadline time.Time) {
	s := &c.stop
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Swap(true) {
		return
	}
	c.lim.wake.stop()
	s.timer = time.AfterFunc(time.Until(deadline), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.busy {
			s.cutOff.Store(true)
			c.raw.Close()
		}
	})
}

// begin marks a Send or SendBatch under way; false: the session is
// stopping and nothing may be written.
func (c *Conn) begin() bool {
	s := &c.stop
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() {
		return false
	}
	s.busy = true
	return true
}

func (c *Conn) end() {
	c.stop.mu.Lock()
	c.stop.busy = false
	c.stop.mu.Unlock()
}

// stopping reports whether Stop was called: write nothing new.
func (c *Conn) stopping() bool { return c.stop.stopping.Load() }

// why is err, or errCutOff for the network error of a connection Stop's
// deadline closed.
func (c *Conn) why(err error) error {
	var pe *textproto.Error
	if c.stop.cutOff.Load() && !errors.As(err, &pe) {
		return errCutOff
	}
	return err
}

// quitWait is how long Close waits for QUIT's reply.
func (c *Conn) quitWait() time.Duration {
	if c.stopping() {
		return 250 * time.Millisecond
	}
	return 5 * time.Second
}
