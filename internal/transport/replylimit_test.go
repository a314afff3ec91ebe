package transport

import (
	"errors"
	"strings"
	"testing"
)

// Replies real servers send pass the limiter however the bytes are split
// into reads; each limit is met exactly where it is set.
func TestReplyLimiterCountsLinesAndReplies(t *testing.T) {
	ehlo := "250-smtp.office365.com Hello\r\n"
	for i := 0; i < 40; i++ {
		ehlo += "250-FEATURE" + strings.Repeat("X", i) + "\r\n"
	}
	ehlo += "250 SMTPUTF8\r\n"
	long := "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. " +
		"Visit https://aka.ms/smtp_auth_disabled for more information. [" + strings.Repeat("A", 200) + "]\r\n"
	ok := []string{
		"220 mx.example ESMTP\r\n" + ehlo + long + "250\r\n250 2.0.0 OK\n",
		"220-a\r\n" + strings.Repeat("220-b\r\n", MaxReplyLines-2) + "220 c\r\n", // exactly MaxReplyLines lines
		"250 " + strings.Repeat("x", MaxReplyLine-4) + "\r\n",                    // the longest line allowed
	}
	for _, in := range ok {
		for _, step := range []int{1, 3, 7, 4096} {
			c := &replyLimiter{}
			for b := []byte(in); len(b) > 0; {
				n := min(step, len(b))
				if err := c.scan(b[:n]); err != nil {
					t.Fatalf("%.30q in reads of %d: %v", in, step, err)
				}
				b = b[n:]
			}
			if c.lines != 0 || c.bytes != 0 || !c.greeted() {
				t.Errorf("%.30q: left lines=%d bytes=%d replies=%d", in, c.lines, c.bytes, c.replies)
			}
		}
	}
	for in, what := range map[string]string{
		"220-a\r\n" + strings.Repeat("220-b\r\n", MaxReplyLines-1) + "220 c\r\n":  "lines",
		"250 " + strings.Repeat("x", MaxReplyLine-3) + "\r\n":                     "line",
		strings.Repeat("250-"+strings.Repeat("y", 500)+"\r\n", 140) + "250 z\r\n": "bytes",
	} {
		c := &replyLimiter{}
		var le *LongReplyError
		if err := c.scan([]byte(in)); !errors.As(err, &le) || le.What != what {
			t.Errorf("%.30q: %v, want a %s error", in, err, what)
		}
	}
}
