package transport

import (
	"bytes"
	"fmt"
	"net"
)

// Limits on what a server may send as one reply. A server (or anyone on
// the path before STARTTLS) that never ends its greeting, or sends an
// endless "250-" EHLO, would otherwise make every reader above grow its
// buffer until the machine runs out of memory: textproto and go-smtp keep
// a multi-line reply whole. RFC 5321 allows 512 bytes a line; real
// servers' longest replies (an EHLO, Microsoft's 5.7.139 text, Gmail's
// 334 challenge) are a few dozen lines of a few hundred bytes. The line
// limit stays under go-smtp's own (2,000), so that ours, which says what
// happened, is the one a user meets.
const (
	MaxReplyLine  = 1000     // bytes in one line of a reply, CRLF not counted
	MaxReplyLines = 256      // lines in one reply
	MaxReplyBytes = 64 << 10 // bytes in one reply, all its lines
)

// LongReplyError: the server's reply passed one of the limits above.
// Reading stopped there; the connection cannot be used any more.
type LongReplyError struct {
	What  string // "line", "lines", "bytes"
	Limit int
}

func (e *LongReplyError) Error() string {
	var what string
	switch e.What {
	case "line":
		what = fmt.Sprintf("a line of more than %d bytes", e.Limit)
	case "lines":
		what = fmt.Sprintf("more than %d lines in one reply", e.Limit)
	default:
		what = fmt.Sprintf("more than %d bytes in one reply", e.Limit)
	}
	return "the server sent an over-long reply (" + what + "); stopped reading it. " +
		"This is not an SMTP server behaving normally: check the host and port"
}

// replyLimiter is the connection SMTP replies are read from. It watches the
// bytes go by (lines, and whether a line is the last of its reply: "250 "
// rather than "250-") and fails the read that would pass a limit, so that
// every reader above it — go-smtp's, textproto's, our own — is bounded.
type replyLimiter struct {
	net.Conn
	lineLen  int  // bytes of the current line so far
	lines    int  // complete lines of the current reply
	bytes    int  // bytes of the current reply so far
	more     bool // the current line is a continuation ("250-")
	replies  int  // complete replies read: 0 until the greeting ends
	reads    int  // Read calls: each a system call or more (see wakeup)
	exceeded error
	wake     wakeup
}

func limitReplies(c net.Conn) *replyLimiter { return &replyLimiter{Conn: c} }

func (c *replyLimiter) Read(p []byte) (int, error) {
	if c.exceeded != nil {
		return 0, c.exceeded
	}
	watching := c.wake.rc != nil && c.beforeRead()
	n, err := c.Conn.Read(p)
	if watching {
		c.wake.timer.Stop()
	}
	c.reads++
	if e := c.scan(p[:n]); e != nil {
		c.exceeded = e
		return 0, e
	}
	return n, err
}

// scan accounts for b, returning a *LongReplyError when a limit is passed.
func (c *replyLimiter) scan(b []byte) error {
	for len(b) > 0 {
		if c.lineLen < 4 {
			// The fourth byte says whether the reply goes on.
			if k := 3 - c.lineLen; k >= 0 && k < len(b) {
				c.more = b[k] == '-'
			}
		}
		i := bytes.IndexByte(b, '\n')
		seg := len(b)
		if i >= 0 {
			seg = i + 1
		}
		c.lineLen += seg
		c.bytes += seg
		switch {
		case c.lineLen > MaxReplyLine+2: // + CRLF
			return &LongReplyError{What: "line", Limit: MaxReplyLine}
		case c.bytes > MaxReplyBytes:
			return &LongReplyError{What: "bytes", Limit: MaxReplyBytes}
		}
		b = b[seg:]
		if i < 0 {
			return nil
		}
		c.lines++
		if c.lineLen < 5 { // "250\r\n" or shorter: a whole reply
			c.more = false
		}
		c.lineLen = 0
		if !c.more {
			c.wake.replyDone(c.bytes)
			c.replies++
			c.lines, c.bytes = 0, 0
			continue
		}
		c.more = false
		if c.lines >= MaxReplyLines {
			return &LongReplyError{What: "lines", Limit: MaxReplyLines}
		}
	}
	return nil
}

// greeted reports whether the server's greeting has been read whole.
func (c *replyLimiter) greeted() bool { return c.replies > 0 }
