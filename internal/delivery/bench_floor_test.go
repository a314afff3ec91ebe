//go:build linux

package delivery

import (
	"bufio"
	"net"
	"net/textproto"
	"testing"
)

// BenchmarkSMTPFloor: the least any sender can pay per message on this
// machine: a bare client (no TLS, no checks) that also pipelines the next
// message's MAIL/RCPT/DATA behind the previous end-of-data (RFC 2920), so
// each message costs one round trip instead of the transport's two.
func BenchmarkSMTPFloor(b *testing.B) {
	s := startSink(b)
	body := []byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nHello there, this is a test message body.\r\n.\r\n")
	const n = 30000
	onConns(b, s, n, func(m int) {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			panic(err)
		}
		bw := bufio.NewWriterSize(c, 64<<10)
		tp := textproto.NewReader(bufio.NewReader(c))
		tp.ReadResponse(220)
		bw.WriteString("EHLO x\r\n")
		bw.Flush()
		tp.ReadResponse(250)
		bw.WriteString("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
		bw.Flush()
		for i := 0; i < m; i++ {
			tp.ReadResponse(250)
			tp.ReadResponse(250)
			if _, _, err := tp.ReadResponse(354); err != nil {
				panic(err)
			}
			bw.Write(body)
			if i+1 < m {
				bw.WriteString("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
			}
			bw.Flush()
			if _, _, err := tp.ReadResponse(250); err != nil {
				panic(err)
			}
		}
		c.Close()
	})
}
