package transport_test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/memprobe"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// hostileServer accepts connections on 127.0.0.1 and lets script talk to
// each; it closes everything when the test ends.
func hostileServer(t *testing.T, script func(c net.Conn, r *bufio.Reader)) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				script(c, bufio.NewReader(c))
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// endless writes line again and again until the client hangs up.
func endless(c net.Conn, line string) {
	chunk := strings.Repeat(line, 256)
	for {
		if _, err := c.Write([]byte(chunk)); err != nil {
			return
		}
	}
}

// expectLine reads one command line from the client.
func expectLine(r *bufio.Reader) string {
	l, _ := r.ReadString('\n')
	return strings.TrimSpace(l)
}

// dialHostile dials port with a short timeout, measuring the peak heap.
func dialHostile(t *testing.T, port int, sec account.Security, auth account.AuthMethod) (error, uint64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	peak := memprobe.Peak(func() {
		var c *transport.Conn
		c, err = transport.Dial(ctx, transport.Config{Host: "127.0.0.1", Port: port, Security: sec, Auth: auth,
			Username: "u@example.com", Password: "pw", Timeout: 10 * time.Second})
		if err == nil {
			_, err = c.Send(ctx, "a@example.com", []string{"b@example.com"}, []byte("Subject: x\r\n\r\nhi\r\n"))
			c.Close()
		}
	})
	if ctx.Err() != nil {
		t.Fatalf("the dial hung until the test's own deadline: %v", err)
	}
	return err, peak
}

const memLimit = 100 << 20

// A server (or someone before STARTTLS) that never ends its greeting, or
// sends an endless EHLO or reply, is refused with a clear error as soon
// as the reply passes its limits; memory stays small and nothing hangs.
func TestHostileServerRepliesAreBounded(t *testing.T) {
	greetThen := func(then func(c net.Conn, r *bufio.Reader)) func(net.Conn, *bufio.Reader) {
		return func(c net.Conn, r *bufio.Reader) {
			c.Write([]byte("220 hostile.example ESMTP\r\n"))
			expectLine(r) // EHLO
			then(c, r)
		}
	}
	ehloOK := "250-hostile.example\r\n250-PIPELINING\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n"
	cases := []struct {
		name   string
		sec    account.Security
		auth   account.AuthMethod
		op     string
		what   string
		script func(c net.Conn, r *bufio.Reader)
	}{
		{"endless 220- greeting", account.SecurityNone, account.AuthNone, "greeting", "lines",
			func(c net.Conn, _ *bufio.Reader) { endless(c, "220-still greeting you\r\n") }},
		{"endless 220- greeting before STARTTLS", account.SecurityStartTLS, account.AuthPlain, "greeting", "lines",
			func(c net.Conn, _ *bufio.Reader) { endless(c, "220-still greeting you\r\n") }},
		{"greeting line without end", account.SecurityNone, account.AuthNone, "greeting", "line",
			func(c net.Conn, _ *bufio.Reader) { c.Write([]byte("220 ")); endless(c, "x") }},
		{"endless 250- EHLO", account.SecurityNone, account.AuthPlain, "EHLO", "lines",
			greetThen(func(c net.Conn, _ *bufio.Reader) { endless(c, "250-FEATURE\r\n") })},
		{"endless 250- EHLO before STARTTLS", account.SecurityStartTLS, account.AuthPlain, "EHLO", "lines",
			greetThen(func(c net.Conn, _ *bufio.Reader) { endless(c, "250-FEATURE\r\n") })},
		{"one huge EHLO line", account.SecurityNone, account.AuthPlain, "EHLO", "line",
			greetThen(func(c net.Conn, _ *bufio.Reader) { c.Write([]byte("250-")); endless(c, "A") })},
		{"endless reply to MAIL (pipelined)", account.SecurityNone, account.AuthNone, "MAIL", "",
			greetThen(func(c net.Conn, r *bufio.Reader) {
				c.Write([]byte(ehloOK))
				expectLine(r) // MAIL, RCPT and DATA come in one write
				endless(c, "250-"+strings.Repeat("z", 200)+"\r\n")
			})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port := hostileServer(t, tc.script)
			err, peak := dialHostile(t, port, tc.sec, tc.auth)
			t.Logf("peak heap %.1f MiB; error: %v", memprobe.MB(peak), err)
			var le *transport.LongReplyError
			if !errors.As(err, &le) || (tc.what != "" && le.What != tc.what) {
				t.Fatalf("err = %v, want an over-long reply (%s)", err, tc.what)
			}
			if !strings.Contains(err.Error(), "the server sent an over-long reply") || !strings.Contains(err.Error(), tc.op+": ") {
				t.Errorf("error %q: want it to say the %s was over-long", err, tc.op)
			}
			if peak > memLimit {
				t.Errorf("peak heap %.1f MiB, want under 100", memprobe.MB(peak))
			}
		})
	}
}

// A server that accepts the connection and then says nothing, or starts
// its greeting and never finishes it, ends in a timeout named as the
// greeting's, with the usual cause (a TLS port reached without TLS).
func TestGreetingTimeoutIsTheGreetings(t *testing.T) {
	for name, script := range map[string]func(c net.Conn, r *bufio.Reader){
		"silent":     func(c net.Conn, r *bufio.Reader) { r.ReadByte() },
		"unfinished": func(c net.Conn, r *bufio.Reader) { c.Write([]byte("220-welcome\r\n")); r.ReadByte() },
	} {
		for _, sec := range []account.Security{account.SecurityNone, account.SecurityStartTLS} {
			t.Run(name+"/"+string(sec), func(t *testing.T) {
				port := hostileServer(t, script)
				_, err := transport.Dial(context.Background(), transport.Config{Host: "127.0.0.1", Port: port,
					Security: sec, Auth: account.AuthNone, Timeout: 300 * time.Millisecond})
				if err == nil || !strings.Contains(err.Error(), "greeting: the server sent no complete greeting within 300ms") ||
					!strings.Contains(err.Error(), "needs security tls") {
					t.Fatalf("err = %v", err)
				}
				if !transport.IsTemporary(err) {
					t.Errorf("a timeout should be temporary: %v", err)
				}
			})
		}
	}
}
