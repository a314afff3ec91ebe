// Package loopback is where the stand-in servers (sign-in, SMTP, mail
// APIs) listen: on 127.0.0.1 only, at a port asked for or a free one, so
// nothing they serve is reachable from another computer.
package loopback

import (
	"net"
	"strconv"
)

// Listen listens on addr, or on 127.0.0.1 at a free port when addr is "".
func Listen(addr string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	return net.Listen("tcp", addr)
}

// AtPort starts a server at 127.0.0.1:port, or at a free port when port
// is 0 or no longer free (a kept sandbox asks for last time's ports, and
// something else may have taken one meanwhile).
func AtPort(port int, start func(addr string) error) error {
	if port != 0 {
		if err := start(net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			return nil
		}
	}
	return start("127.0.0.1:0")
}

// Port is the TCP port l listens on; 0 when l is not a TCP listener.
func Port(l net.Listener) int {
	if a, ok := l.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}
