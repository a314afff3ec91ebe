package smtptest

import (
	"bufio"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// writeCounter counts the writes that reach the socket.
type writeCounter struct {
	net.Listener
	writes *atomic.Int64
}

func (l writeCounter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return countedConn{c, l.writes}, err
}

type countedConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countedConn) Write(p []byte) (int, error) { c.writes.Add(1); return c.Conn.Write(p) }

// A pipelined group of 16 commands is answered in one write, as Postfix
// answers it; a command sent alone (the greeting, EHLO) is still
// answered before the server waits for the next.
func TestGroupRepliesAnswersAPipelinedGroupAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var writes atomic.Int64
	s := &Server{Discard: true}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		s.open.Add(1)
		return &session{s: s}, nil
	}))
	srv.Domain = "localhost"
	go srv.Serve(groupListener{writeCounter{ln, &writes}})
	defer srv.Close()

	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	expect := func(n int) {
		t.Helper()
		for i := 0; i < n; {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("after %d of %d replies: %v", i, n, err)
			}
			if len(line) >= 4 && line[3] == ' ' {
				i++ // the last line of a reply
			}
		}
	}
	expect(1) // greeting
	c.Write([]byte("EHLO client.test\r\n"))
	expect(1)
	before := writes.Load()
	c.Write([]byte(strings.Repeat("RSET\r\nNOOP\r\n", 8)))
	expect(16)
	if got := writes.Load() - before; got != 1 {
		t.Errorf("16 pipelined replies took %d writes, want 1", got)
	}
}
