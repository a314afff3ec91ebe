package smtptest

import (
	"net"
	"sync"
)

// groupListener's connections hold what the server writes until it is
// about to wait for input, as Postfix's smtpd does: the replies to a
// pipelined group of commands then leave in one segment. go-smtp on its
// own writes each reply in a segment of its own, and on loopback the
// client pays for the server's segments (its acknowledgements make the
// server's kernel send them, in the client's system call).
type groupListener struct{ net.Listener }

func (l groupListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &groupConn{Conn: c}, nil
}

type groupConn struct {
	net.Conn
	mu  sync.Mutex
	out []byte
}

func (c *groupConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out = append(c.out, p...)
	c.mu.Unlock()
	return len(p), nil
}

func (c *groupConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.out)
	c.out = c.out[:0]
	return err
}

// Read is where the server would wait for the client: what it has said
// must be on its way first.
func (c *groupConn) Read(p []byte) (int, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *groupConn) Close() error {
	c.flush()
	return c.Conn.Close()
}
