package transport

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// fastConn is a TCP connection whose reads are raw read(2) calls, made
// when the runtime's poller says the socket is readable (RawConn.Read),
// instead of going through the runtime's system call path. A sender
// waiting on its servers goes wholly idle thousands of times a second, and
// the first system call through that path after each idle spell wakes the
// runtime's monitor thread, which then polls every 20 µs for a millisecond:
// on a virtual machine, where a context switch is dear, those wake-ups were
// the largest part of what a message cost beyond its own work (issue 13;
// docs/delivery.md, the sixth sitting). A non-blocking read does not need
// that path: it never blocks, so there is no processor to hand over.
// Everything else (writes, deadlines, Close) is the TCPConn's own.
type fastConn struct {
	*net.TCPConn
	rc syscall.RawConn

	// The read under way: Read hands rc.Read the method value readFd,
	// bound once, and these fields, so that a read allocates nothing.
	// mu keeps concurrent Reads (net.Conn allows them) apart.
	mu     sync.Mutex
	readFd func(fd uintptr) bool
	p      []byte
	n      int
	errno  syscall.Errno
}

// fastReads returns c with fast reads when it is a TCP connection, else c.
func fastReads(c net.Conn) net.Conn {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return c
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return c
	}
	f := &fastConn{TCPConn: tc, rc: rc}
	f.readFd = f.readOnce
	return f
}

// Read reads as net.TCPConn.Read does, and fails as it does: io.EOF at
// the end, else a *net.OpError "read" around the poller's error (a
// deadline, a closed connection) or the system call's.
func (c *fastConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	c.p, c.n, c.errno = p, 0, 0
	err := c.rc.Read(c.readFd)
	n, errno := c.n, c.errno
	c.p = nil
	c.mu.Unlock()
	switch {
	case err != nil:
		return 0, c.readError(err)
	case errno != 0:
		return 0, c.readError(os.NewSyscallError("read", errno))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// readOnce is one read(2) into c.p; false when nothing is there yet (the
// poller then waits for more).
func (c *fastConn) readOnce(fd uintptr) bool {
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&c.p[0])), uintptr(len(c.p)))
		switch e {
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		c.n, c.errno = int(r), e
		return true
	}
}

// readError is err as TCPConn.Read gives it: the poller's (which
// RawConn.Read wraps as a "raw-read") or the system call's, in a "read".
func (c *fastConn) readError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	return &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
