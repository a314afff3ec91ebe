package transport

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// pair returns the two ends of a loopback TCP connection: ours (as
// fastReads makes it when fast, as dialled when not) and the server's.
func pair(t *testing.T, fast bool) (ours net.Conn, theirs *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	if fast {
		c = fastReads(c)
		if _, ok := c.(*fastConn); !ok {
			t.Fatalf("fastReads gave a %T", c)
		}
	}
	return c, s.(*net.TCPConn)
}

// A fast read reads what came and fails as net.TCPConn's Read does, in
// every way the transport tells apart: the end of the stream, a deadline
// (a timeout: "i/o timeout"), our own Close, the server's reset.
func TestFastReadsReadAndFailAsTCPConnDoes(t *testing.T) {
	for _, c := range []struct {
		name  string
		setup func(ours net.Conn, theirs *net.TCPConn)
		check func(t *testing.T, err error)
	}{
		{"data", func(ours net.Conn, theirs *net.TCPConn) { theirs.Write([]byte("250 2.0.0 Ok\r\n")) }, nil},
		{"end of stream", func(ours net.Conn, theirs *net.TCPConn) { theirs.Close() }, func(t *testing.T, err error) {
			if err != io.EOF {
				t.Errorf("err %v; want io.EOF itself", err)
			}
		}},
		{"deadline", func(ours net.Conn, theirs *net.TCPConn) { ours.SetReadDeadline(time.Now().Add(20 * time.Millisecond)) }, func(t *testing.T, err error) {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("err %v; want a timeout", err)
			}
		}},
		{"closed by us", func(ours net.Conn, theirs *net.TCPConn) { ours.Close() }, func(t *testing.T, err error) {
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("err %v; want net.ErrClosed", err)
			}
		}},
		{"reset by the server", func(ours net.Conn, theirs *net.TCPConn) { theirs.SetLinger(0); theirs.Close() }, func(t *testing.T, err error) {
			var se *os.SyscallError
			if !errors.Is(err, syscall.ECONNRESET) || !errors.As(err, &se) || se.Syscall != "read" {
				t.Errorf("err %v; want read: connection reset by peer", err)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got [2]struct {
				n   int
				buf string
				err error
			}
			for i, fast := range []bool{false, true} {
				ours, theirs := pair(t, fast)
				c.setup(ours, theirs)
				time.Sleep(10 * time.Millisecond) // the data, the FIN or the RST is there
				buf := make([]byte, 64)
				n, err := ours.Read(buf)
				got[i].n, got[i].buf, got[i].err = n, string(buf[:n]), err
			}
			plain, fast := got[0], got[1]
			if fast.n != plain.n || fast.buf != plain.buf {
				t.Errorf("fast read %d bytes %q; TCPConn's %d %q", fast.n, fast.buf, plain.n, plain.buf)
			}
			if (fast.err == nil) != (plain.err == nil) {
				t.Fatalf("fast read's error %v; TCPConn's %v", fast.err, plain.err)
			}
			if c.check != nil {
				c.check(t, plain.err) // the test's own premise
				c.check(t, fast.err)
			}
			var fo, po *net.OpError
			if errors.As(plain.err, &po) {
				if !errors.As(fast.err, &fo) || fo.Op != po.Op || fo.Net != po.Net || fo.Err.Error() != po.Err.Error() {
					t.Errorf("fast read's error %q; TCPConn's %q", fast.err, plain.err)
				}
			}
		})
	}
}

// Every session's reads are fast on Linux, below TLS too: dialled TCP
// connections come wrapped; the low-water mark still finds the socket.
func TestDialledSessionsReadFast(t *testing.T) {
	port := (&tricklingServer{reply: okReplies}).start(t)
	c := dialTrickle(t, port)
	if _, ok := c.raw.(*fastConn); !ok {
		t.Errorf("the session reads through a %T, not a fastConn", c.raw)
	}
	if c.lim.wake.rc == nil {
		t.Error("no low-water mark on a fast connection")
	}
	out := sendTimed(t, c, trickleBatch(2), 10*time.Second)
	for i, r := range out {
		if r.Err != nil {
			t.Errorf("message %d: %v", i, r.Err)
		}
	}
}

// A fast read of what has come allocates nothing: it runs for every few
// replies of a bulk send.
func TestFastReadAllocatesNothing(t *testing.T) {
	ours, theirs := pair(t, true)
	buf := make([]byte, 64)
	reply := []byte("250 2.0.0 Ok\r\n")
	allocs := testing.AllocsPerRun(50, func() {
		theirs.Write(reply)
		if n, err := io.ReadFull(ours, buf[:len(reply)]); err != nil || n != len(reply) {
			t.Fatalf("read %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Errorf("a read allocates %v times, want none", allocs)
	}
}
