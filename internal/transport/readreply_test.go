package transport

import (
	"bufio"
	"errors"
	"net/textproto"
	"strings"
	"testing"
)

// readReply must read and judge replies exactly as textproto's
// ReadResponse does (it replaces it in SendBatch), multi-line and long
// ones included.
func TestReadReplyAgreesWithTextproto(t *testing.T) {
	long := strings.Repeat("x", 5000)
	for _, c := range []struct {
		in     string
		expect int
	}{
		{"250 2.1.0 Ok\r\n", 250},
		{"250 2.1.0 Ok\r\n", 25},
		{"250 2.1.0 Ok\r\n", 2},
		{"251 2.1.5 forwarded\r\n", 25},
		{"354 go ahead\r\n", 354},
		{"550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n550-5.1.1 double-checking the recipient's email address for typos or\r\n550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser\r\n", 25},
		{"451 4.7.500 Server busy. Please try again later.\r\n", 250},
		{"421 4.7.0 Try again later, closing connection.\r\n", 354},
		{"250-first\r\n250 " + long + "\r\n", 250},
		{"550 " + long + "\r\n", 250},
		{"250-a\r\n251 b\r\n", 250},
		{"25x bad\r\n", 250},
		{"250 bare LF\n", 250},
	} {
		wc, wm, werr := textproto.NewReader(bufio.NewReader(strings.NewReader(c.in))).ReadResponse(c.expect)
		conn := &Conn{tp: textproto.NewConn(nopRWC{strings.NewReader(c.in)})}
		gc, gm, gerr := conn.readReply(c.expect, true)
		var wpe, gpe *textproto.Error
		if gc != wc || gm != wm || (werr == nil) != (gerr == nil) || errors.As(werr, &wpe) != errors.As(gerr, &gpe) {
			t.Errorf("%q (expect %d): got %d %q %v; textproto %d %q %v", c.in[:min(len(c.in), 40)], c.expect, gc, gm, gerr, wc, wm, werr)
		}
		if wpe != nil && (gpe.Code != wpe.Code || gpe.Msg != wpe.Msg) {
			t.Errorf("%q: error %+v, textproto %+v", c.in[:min(len(c.in), 40)], gpe, wpe)
		}
	}
}

// A bare code is a whole reply (RFC 5321 4.2: the text is optional);
// textproto calls it a short response.
func TestReadReplyBareCode(t *testing.T) {
	conn := &Conn{tp: textproto.NewConn(nopRWC{strings.NewReader("250\r\n")})}
	if code, msg, err := conn.readReply(250, true); code != 250 || msg != "" || err != nil {
		t.Errorf("got %d %q %v", code, msg, err)
	}
}

type nopRWC struct{ *strings.Reader }

func (nopRWC) Write(b []byte) (int, error) { return len(b), nil }
func (nopRWC) Close() error                { return nil }
