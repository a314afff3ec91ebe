package transport

import (
	"errors"
	"io"
	"net"
	"os"
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
	return &fastConn{TCPConn: tc, rc: rc}
}

// Read reads as net.TCPConn.Read does, and fails as it does: io.EOF at
// the end, else a *net.OpError "read" around the poller's error (a
// deadline, a closed connection) or the system call's.
func (c *fastConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // the poller waits for more
			}
			n, errno = int(r), e
			return true
		}
	})
	var oe *net.OpError
	switch {
	case errors.As(err, &oe):
		err = oe.Err // the poller's, as "raw-read": said as a read below
	case err == nil && errno != 0:
		err = os.NewSyscallError("read", errno)
	case err == nil && n == 0:
		return 0, io.EOF
	case err == nil:
		return n, nil
	}
	return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: err}
}
