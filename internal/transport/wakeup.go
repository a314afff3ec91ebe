package transport

import (
	"net"
	"sync"
	"syscall"
	"time"
)

// A pipelined batch of 16 messages gets about 64 replies, and some servers
// (go-smtp's among them) send each one in a segment of its own the moment
// it is ready. Read as they came, they cost the sender ~28 reads and ~15
// wake-ups a batch, each a system call: on a virtual machine, where a
// system call is dear, that was a third of a message's CPU. wakeup keeps
// the reader asleep until several replies are there, with the socket's
// receive low-water mark (SO_RCVLOWAT): the kernel wakes it once that many
// bytes have arrived, or the connection ended.
//
// The mark never asks for more than is surely coming, or the reader would
// sleep until the deadline: each reply still missing is at least as long
// as the shortest this server has sent (less what has come of the one
// under way). A reply shorter than any before (junk, or a terse refusal)
// could still leave the mark unmet, and a slow server keeps the reader
// waiting on it, so a watchdog drops the mark to one byte when the reader
// has slept wakeupPatience: it wakes for what has come, and the next read
// sets a mark from what is still missing (and the shortest reply, which
// the short one just lowered). Stop drops it for good: every reply that
// arrives in a pause's grace is read.
type wakeup struct {
	rc syscall.RawConn // nil: no low-water mark on this connection

	mu    sync.Mutex
	mark  int  // the mark on the socket now
	off   bool // Stop was called, or the system refused a mark: none from now on
	timer *time.Timer

	// The reader's own, read and written on its goroutine only:
	target int // the reply count (replyLimiter.replies) the batch ends at
	minLen int // bytes of the shortest reply so far; 0 before any
}

const (
	// maxMark caps the mark. A few hundred bytes already make a batch
	// wake the reader a handful of times instead of once a reply; with
	// marks of a kilobyte or more, a server sending a reply a segment
	// sent them in bursts tens of milliseconds apart (the receiver, not
	// reading, acknowledges late) and a bulk send ran half as fast.
	maxMark = 384
	// wakeupPatience is how long the reader sleeps on a mark before it
	// takes the replies to be shorter than expected.
	wakeupPatience = 20 * time.Millisecond
)

// watchLowWater gives l a low-water mark when raw is a TCP connection on
// a system that has one.
func watchLowWater(l *replyLimiter, raw net.Conn) {
	tc, ok := raw.(interface {
		SyscallConn() (syscall.RawConn, error)
	})
	if !ok || !lowWaterSupported {
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return
	}
	w := &l.wake
	w.rc, w.mark = rc, 1
	w.timer = time.AfterFunc(time.Hour, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.setMark(1)
	})
	w.timer.Stop()
}

// expect says that a write just sent asks for n more replies.
func (l *replyLimiter) expect(n int) {
	w := &l.wake
	if w.rc == nil {
		return
	}
	w.target = max(w.target, l.replies) + n
}

// beforeRead sets the mark for the read about to start; true: the
// watchdog is running, to be stopped once the read returns.
func (l *replyLimiter) beforeRead() bool {
	w := &l.wake
	w.mu.Lock()
	defer w.mu.Unlock()
	mark := 1
	if !w.off {
		mark = lowWaterMark(w.target-l.replies, l.bytes, w.minLen)
	}
	w.setMark(mark)
	if w.mark > 1 {
		w.timer.Reset(wakeupPatience)
		return true
	}
	return false
}

// lowWaterMark is the bytes surely coming while remaining replies are
// missing, none shorter than minLen, partial bytes of the first already
// read; capped at maxMark, and at least a byte.
func lowWaterMark(remaining, partial, minLen int) int {
	if remaining <= 0 || minLen <= 1 {
		return 1
	}
	return max(1, min(remaining*minLen-partial, maxMark))
}

// replyDone records the length of a reply just read whole.
func (w *wakeup) replyDone(n int) {
	if w.minLen == 0 || n < w.minLen {
		w.minLen = n
	}
}

// stop drops the mark for good (see Conn.Stop); any goroutine may call it.
func (w *wakeup) stop() {
	if w.rc == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.off = true
	w.setMark(1)
}

// setMark puts n on the socket; w.mu is held. If the system refuses, the
// reader wakes for every reply, as it would without a mark.
func (w *wakeup) setMark(n int) {
	if n == w.mark {
		return
	}
	var err error
	if cerr := w.rc.Control(func(fd uintptr) { err = setLowWater(fd, n) }); cerr != nil || err != nil {
		w.off = true
		return
	}
	w.mark = n
}
