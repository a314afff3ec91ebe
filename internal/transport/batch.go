package transport

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// Envelope is one message for SendBatch.
type Envelope struct {
	From string
	To   []string
	Msg  []byte // RFC 5322 bytes with CRLF line ends
}

// Result is one message's outcome from SendBatch: the server's final reply,
// or an *Error (or a plain error for a bad address) classed as for Send,
// plus Uncertain() (the connection failed after the content was written,
// before the final reply) and NotSent() (never handed to the server).
type Result struct {
	Reply Reply
	Err   error
}

var errNotSent = errors.New("not sent: the connection failed before this message was handed to the server")

// SendBatch sends msgs in order on the session, keeping several in flight
// when the server offers PIPELINING (RFC 2920), and puts each message's
// outcome in out[i] (len(out) must be at least len(msgs)).
//
// With CHUNKING (RFC 3030) as well and one recipient per message, the whole
// batch goes out in one write — RSET, MAIL, RCPT, BDAT n LAST and the
// content for each message — and the replies are read in order: one round
// trip for the batch. Otherwise each message's content and end-of-data go
// in the same write as the next message's MAIL, RCPT and DATA (content may
// start a command group, DATA must end one), so a batch of n messages takes
// n+1 round trips instead of 2n. Without PIPELINING it is Send in a loop.
//
// A refused MAIL or RCPT fails only its own message: the next transaction
// starts with RSET. Any refused recipient fails the whole message, as in
// Send. After a network failure the messages whose content was written are
// Uncertain, the later ones NotSent, and the Conn is Broken.
func (c *Conn) SendBatch(ctx context.Context, msgs []Envelope, out []Result) {
	out = out[:len(msgs)]
	clear(out)
	valid := make([]int, 0, len(msgs))
	chunk := c.chunking
	for i := range msgs {
		if err := checkEnvelope(&msgs[i]); err != nil {
			out[i].Err = err
			continue
		}
		valid = append(valid, i)
		chunk = chunk && len(msgs[i].To) == 1
	}
	if len(valid) == 0 {
		return
	}
	if c.broken || !c.begin() {
		c.notSent(msgs, out, valid)
		return
	}
	defer c.end()
	if c.tp == nil {
		for k, i := range valid {
			out[i].Reply, out[i].Err = c.Send(ctx, msgs[i].From, msgs[i].To, msgs[i].Msg)
			if c.broken {
				c.notSent(msgs, out, valid[k+1:])
				return
			}
		}
		return
	}
	stop := context.AfterFunc(ctx, func() { c.raw.Close() })
	defer stop()
	defer c.conn.SetDeadline(time.Time{})
	if chunk {
		c.batchBDAT(msgs, out, valid)
	} else {
		c.batchDATA(msgs, out, valid)
	}
}

func checkEnvelope(m *Envelope) error {
	if len(m.To) == 0 {
		return errors.New("no recipients")
	}
	if strings.ContainsAny(m.From, "\r\n<>") {
		return fmt.Errorf("address %q contains a line break or <>", m.From)
	}
	for _, a := range m.To {
		if strings.ContainsAny(a, "\r\n<>") {
			return fmt.Errorf("address %q contains a line break or <>", a)
		}
	}
	return nil
}

func (c *Conn) notSent(msgs []Envelope, out []Result, idx []int) {
	for _, i := range idx {
		out[i].Err = c.notSentError()
	}
}

func (c *Conn) notSentError() *Error {
	return &Error{Server: c.cfg.Addr(), Op: "MAIL", Class: Temporary, Err: errNotSent, notSent: true}
}

func uncertainError(addr string, err error) *Error {
	e := newNetError(addr, "DATA", err)
	e.uncertain = true
	return e
}

// replies reads one message's MAIL, RCPT and (expecting want) DATA or BDAT
// replies, after an RSET reply when reset. It returns the DATA/BDAT reply,
// the first refusal (which fails the message), and a network error (which
// ends the session).
func (c *Conn) replies(m *Envelope, reset bool, want int) (code int, text string, refused, netErr error) {
	addr := c.cfg.Addr // only a refusal names the server: no string a message
	note := func(op, rcpt string, err error) {
		var pe *textproto.Error
		if !errors.As(err, &pe) {
			if netErr == nil {
				netErr = err
			}
			return
		}
		if refused == nil {
			e := replyError(addr(), op, err)
			e.Recipient = rcpt
			refused = e
		}
	}
	if reset {
		if _, _, err := c.readReply(250, false); err != nil {
			if note("RSET", "", err); netErr != nil {
				return
			}
		}
	}
	if _, _, err := c.readReply(250, false); err != nil {
		if note("MAIL", "", err); netErr != nil {
			return
		}
	}
	for _, r := range m.To {
		if _, _, err := c.readReply(25, false); err != nil {
			if note("RCPT", r, err); netErr != nil {
				return
			}
		}
	}
	code, text, err := c.readReply(want, want != 354)
	if err != nil {
		if note("DATA", "", err); netErr != nil {
			return
		}
		if refused == nil {
			refused = replyError(addr(), "DATA", err)
		}
		code = -1 // refused: no 354 / no acceptance
	}
	return code, text, refused, netErr
}

// commandReplies is how many replies writeCommands's commands get.
func commandReplies(m *Envelope, reset bool) int {
	n := 1 + len(m.To)
	if reset {
		n++
	}
	return n
}

func writeCommands(w *bufio.Writer, m *Envelope, reset bool) {
	if reset {
		w.WriteString("RSET\r\n")
	}
	w.WriteString("MAIL FROM:<")
	w.WriteString(m.From)
	w.WriteString(">\r\n")
	for _, r := range m.To {
		w.WriteString("RCPT TO:<")
		w.WriteString(r)
		w.WriteString(">\r\n")
	}
}

// batchBDAT writes every message with BDAT in one go, then reads all the
// replies. Each transaction but the first starts with RSET, because the
// previous one's outcome is not known when it is written.
func (c *Conn) batchBDAT(msgs []Envelope, out []Result, idx []int) {
	addr := c.cfg.Addr()
	w := c.tp.W
	size := 0
	for _, i := range idx {
		size += len(msgs[i].Msg)
	}
	c.conn.SetDeadline(time.Now().Add(c.cfg.timeout() + time.Duration(size/16384)*time.Second))
	firstReset := c.needReset
	var num [20]byte
	started := 0 // messages whose bytes went (at least partly) to the writer
	var werr error
	for k, i := range idx {
		m := &msgs[i]
		writeCommands(w, m, k > 0 || firstReset)
		w.WriteString("BDAT ")
		w.Write(strconv.AppendInt(num[:0], int64(len(m.Msg)), 10))
		w.WriteString(" LAST\r\n")
		started = k + 1
		if _, werr = w.Write(m.Msg); werr != nil {
			break
		}
	}
	if werr == nil {
		werr = w.Flush()
	}
	if werr == nil {
		n := 0
		for k, i := range idx {
			n += commandReplies(&msgs[i], k > 0 || firstReset) + 1 // + BDAT
		}
		c.lim.expect(n)
	}
	if werr != nil {
		c.broken = true
		for _, i := range idx[:started] {
			out[i].Err = uncertainError(addr, c.why(werr))
		}
		c.notSent(msgs, out, idx[started:])
		return
	}
	// RFC 5321 4.5.3.2.6: a server may take 10 minutes to accept a message.
	c.conn.SetDeadline(time.Now().Add(10*time.Minute + time.Duration(size/16384)*time.Second))
	for k, i := range idx {
		code, text, refused, netErr := c.replies(&msgs[i], k > 0 || firstReset, 250)
		switch {
		case refused != nil:
			out[i].Err = refused // certainly not taken, whatever came after
		case netErr != nil:
			out[i].Err = uncertainError(addr, c.why(netErr))
		default:
			out[i].Reply = parseReply(code, text)
			c.Sent++
		}
		c.needReset = refused != nil
		if te, ok := refused.(*Error); ok && te.Code == 421 {
			// The server closes the session after 421 (RFC 5321 3.8)
			// without reading further: the later messages were not taken.
			c.broken = true
			c.notSent(msgs, out, idx[k+1:])
			return
		}
		if netErr != nil {
			c.broken = true
			for _, j := range idx[k+1:] {
				out[j].Err = uncertainError(addr, c.why(netErr))
			}
			return
		}
	}
}

// batchDATA streams the batch with DATA: the content and end-of-data of
// message k go in the same write as the commands of message k+1, so each
// message costs one round trip (plus one for the batch).
func (c *Conn) batchDATA(msgs []Envelope, out []Result, idx []int) {
	addr := c.cfg.Addr()
	w := c.tp.W
	reset := c.needReset
	c.needReset = false
	writeCommands(w, &msgs[idx[0]], reset)
	w.WriteString("DATA\r\n")
	c.conn.SetDeadline(time.Now().Add(c.cfg.timeout()))
	if err := w.Flush(); err != nil {
		c.broken = true
		c.notSent(msgs, out, idx)
		return
	}
	c.lim.expect(commandReplies(&msgs[idx[0]], reset) + 1) // + DATA
	// pending: the message whose content was written, its final reply unread.
	pending := -1
	for k, i := range idx {
		if pending >= 0 {
			if !c.readDataReply(addr, &out[idx[pending]]) {
				c.notSent(msgs, out, idx[k:])
				return
			}
			pending = -1
		}
		code, _, refused, netErr := c.replies(&msgs[i], reset, 354)
		if netErr != nil {
			// The content was not sent: the message was not taken.
			c.broken = true
			c.notSent(msgs, out, idx[k:])
			return
		}
		last := k+1 == len(idx)
		switch {
		case refused == nil && c.stopping():
			// Stop came while this message waited for 354: its content
			// is not written, and only hanging up ends the transaction
			// (its replies so far were read, nothing else is pending).
			c.broken = true
			c.conn.Close()
			c.notSent(msgs, out, idx[k:])
			return
		case refused != nil && code == 354:
			// The server waits for the content although a recipient was
			// refused: ending it would deliver the message to the others.
			// Hang up instead, which discards the transaction.
			out[i].Err = refused
			c.broken = true
			c.conn.Close()
			c.notSent(msgs, out, idx[k+1:])
			return
		case refused != nil:
			out[i].Err = refused
			reset = true
		default:
			m := msgs[i].Msg
			c.conn.SetDeadline(time.Now().Add(10*time.Minute + time.Duration(len(m)/16384)*time.Second))
			writeDotted(w, m)
			// The next transaction starts with RSET all the same: Dovecot
			// 2.3's submission server aborts (an assertion on pending
			// RCPTs) when MAIL and RCPT arrive while it is still relaying
			// the previous message; RSET makes it wait, and costs no
			// round trip.
			pending, reset = k, true
		}
		if !last && c.stopping() {
			// Nothing new after Stop: only the content written goes, and
			// its reply is awaited below.
			c.notSent(msgs, out, idx[k+1:])
			if pending < 0 {
				c.needReset = true
				return
			}
			if err := w.Flush(); err != nil {
				c.broken = true
				out[idx[pending]].Err = uncertainError(addr, c.why(err))
				return
			}
			c.lim.expect(1)
			c.readDataReply(addr, &out[idx[pending]])
			c.needReset = true
			return
		}
		if !last {
			writeCommands(w, &msgs[idx[k+1]], reset)
			w.WriteString("DATA\r\n")
			if pending < 0 {
				c.conn.SetDeadline(time.Now().Add(c.cfg.timeout()))
			}
		} else if pending < 0 {
			c.needReset = true
			return
		}
		if err := w.Flush(); err != nil {
			c.broken = true
			if pending >= 0 {
				out[idx[pending]].Err = uncertainError(addr, c.why(err))
			}
			c.notSent(msgs, out, idx[k+1:])
			return
		}
		n := 0
		if pending >= 0 {
			n++ // the content's
		}
		if !last {
			n += commandReplies(&msgs[idx[k+1]], reset) + 1 // + DATA
		}
		c.lim.expect(n)
	}
	if pending >= 0 {
		c.readDataReply(addr, &out[idx[pending]])
	}
}

// readDataReply reads the final reply to a message whose content was
// written into r. It reports false when the connection failed instead: the
// Conn is then broken and the message Uncertain (the server may have it).
func (c *Conn) readDataReply(addr string, r *Result) bool {
	code, text, err := c.readReply(250, true)
	if err == nil {
		r.Reply = parseReply(code, text)
		c.Sent++
		return true
	}
	e := dataReplyError(addr, c.why(err))
	r.Err = e
	c.broken = c.broken || e.Uncertain()
	return !e.Uncertain()
}

// writeDotted writes msg as DATA content: lines starting with "." get
// another, bare LFs become CRLF, and the content ends with CRLF "." CRLF.
// Unlike textproto's DotWriter it does not flush, so the next commands
// share the write.
func writeDotted(w *bufio.Writer, msg []byte) {
	atLineStart := true
	for len(msg) > 0 {
		if atLineStart && msg[0] == '.' {
			w.WriteByte('.')
		}
		n := bytes.IndexByte(msg, '\n')
		if n < 0 {
			w.Write(msg)
			w.WriteString("\r\n")
			atLineStart = true
			break
		}
		line := msg[:n]
		msg = msg[n+1:]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			w.Write(line)
			w.WriteByte('\n')
		} else {
			w.Write(line)
			w.WriteString("\r\n")
		}
		atLineStart = true
	}
	w.WriteString(".\r\n")
}

// readReply reads one reply like textproto's ReadResponse (expect: a full
// code, or its first one or two digits), with the same errors, but keeps
// the text only when asked or when the code is not the expected one: most
// replies in a batch (RSET, MAIL, RCPT) are only checked, and allocating
// their text was a measurable part of a message's cost.
func (c *Conn) readReply(expect int, keep bool) (int, string, error) {
	r := c.tp.R
	code := 0
	var msg []byte
	for first := true; ; first = false {
		line, err := readLine(r)
		if err != nil {
			return 0, "", err
		}
		if len(line) < 3 || !digit(line[0]) || !digit(line[1]) || !digit(line[2]) || len(line) > 3 && line[3] != ' ' && line[3] != '-' {
			return 0, "", textproto.ProtocolError("invalid response: " + strconv.Quote(string(line)))
		}
		lc := int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
		if first {
			code = lc
		} else if lc != code {
			return 0, "", textproto.ProtocolError("status code mismatch: " + strconv.Itoa(lc) + " after " + strconv.Itoa(code))
		}
		ok := expect < 10 && code/100 == expect || expect >= 10 && expect < 100 && code/10 == expect || expect >= 100 && code == expect
		if keep || !ok {
			if !first {
				msg = append(msg, '\n')
			}
			if len(line) > 4 {
				msg = append(msg, line[4:]...)
			}
		}
		if len(line) == 3 || line[3] == ' ' {
			if !ok {
				return code, string(msg), &textproto.Error{Code: code, Msg: string(msg)}
			}
			return code, string(msg), nil
		}
	}
}

func digit(b byte) bool { return '0' <= b && b <= '9' }

// readLine returns a line without its CRLF; the slice is valid until the
// next read.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = r.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil {
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}
