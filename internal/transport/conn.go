package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// Reply is a server's positive reply, e.g. 250 2.0.0 OK <id>.
type Reply struct {
	Code     int
	Enhanced string
	Text     string
}

func (r Reply) String() string {
	s := strconv.Itoa(r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	if r.Text != "" {
		s += " " + r.Text
	}
	return s
}

// Conn is one authenticated SMTP session that sends many messages in turn.
// It is not safe for concurrent use: run one Conn per worker.
type Conn struct {
	cfg  Config
	c    *smtp.Client  // go-smtp's client: sign-in, and sending without PIPELINING
	raw  net.Conn      // the TCP connection
	conn net.Conn      // what carries SMTP: raw or TLS over it
	lim  *replyLimiter // conn's replies
	// tp carries the transactions when the server offers PIPELINING (go-smtp's
	// client waits for each reply); nil otherwise.
	tp     *textproto.Conn
	broken bool
	// chunking: the server offers CHUNKING too, so SendBatch can write a
	// whole batch with BDAT before reading any reply.
	chunking bool
	// needReset: a transaction may be left open (a refused MAIL/RCPT/DATA
	// in a batch): the next one starts with RSET.
	needReset bool
	// Sent counts messages accepted on this connection (for the
	// messages-per-connection limit).
	Sent int
	stop stopState
}

// Send submits one message: MAIL, RCPT for each of to, DATA. It returns the
// server's final reply (e.g. "250 2.0.0 OK <id>"). After a failure the
// transaction is reset (RSET) so the next Send starts clean; after success
// the server has already reset it (RFC 5321 4.1.4), so no extra round trip.
// Any refused recipient fails the whole message: a bulk send has one
// recipient per message, and a half-delivered message cannot be retried
// without duplicates.
func (c *Conn) Send(ctx context.Context, from string, to []string, msg []byte) (Reply, error) {
	if c.broken {
		return Reply{}, &Error{Server: c.cfg.Addr(), Op: "MAIL", Class: Temporary, Err: errors.New("connection already closed")}
	}
	if err := checkEnvelope(&Envelope{From: from, To: to}); err != nil {
		return Reply{}, err
	}
	if !c.begin() {
		return Reply{}, c.notSentError()
	}
	defer c.end()
	stop := context.AfterFunc(ctx, func() { c.raw.Close() })
	defer stop()
	if c.tp != nil {
		return c.sendPipelined(ctx, from, to, msg)
	}
	addr := c.cfg.Addr()
	fail := func(op, rcpt string, err error) (Reply, error) {
		return c.fail(ctx, replyError(addr, op, err), rcpt)
	}

	if err := c.c.Mail(from, nil); err != nil {
		return fail("MAIL", "", err)
	}
	for _, r := range to {
		if err := c.c.Rcpt(r, nil); err != nil {
			return fail("RCPT", r, err)
		}
	}
	w, err := c.c.Data()
	if err != nil {
		return fail("DATA", "", err)
	}
	if _, err := w.Write(msg); err != nil {
		c.broken = true
		return Reply{}, uncertainError(addr, c.why(err))
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return c.fail(ctx, dataReplyError(addr, c.why(err)), "")
	}
	c.Sent++
	return parseReply(250, resp.StatusText), nil
}

// fail finishes a failed transaction: a broken connection is marked so,
// any other gets RSET so the next message starts clean.
func (c *Conn) fail(ctx context.Context, e error, rcpt string) (Reply, error) {
	if te, ok := e.(*Error); ok {
		te.Recipient = rcpt
		if te.Code == 0 || te.Code == 421 {
			c.broken = true
		}
	}
	if !c.broken {
		if err := c.reset(); err != nil {
			c.broken = true
		}
	}
	if ctx.Err() != nil {
		c.broken = true
		return Reply{}, fmt.Errorf("%w (%w)", ctx.Err(), e)
	}
	return Reply{}, e
}

func (c *Conn) reset() error {
	if c.tp == nil {
		return c.c.Reset()
	}
	if err := c.tp.PrintfLine("RSET"); err != nil {
		return err
	}
	_, _, err := c.tp.ReadResponse(250)
	return err
}

// parseReply splits "2.0.0 OK <id>" into the enhanced code and the text.
func parseReply(code int, text string) Reply {
	r := Reply{Code: code, Text: text}
	if first, rest, ok := strings.Cut(text, " "); ok && isEnhanced(first) {
		r.Enhanced, r.Text = first, rest
	} else if isEnhanced(text) {
		r.Enhanced, r.Text = text, ""
	}
	return r
}

// isEnhanced reports whether s is three numbers joined by dots, as an
// enhanced status code ("2.0.0") is. It is asked of every reply, so it
// splits s without making a slice.
func isEnhanced(s string) bool {
	class, rest, ok := strings.Cut(s, ".")
	if !ok {
		return false
	}
	subject, detail, ok := strings.Cut(rest, ".")
	if !ok {
		return false
	}
	for _, p := range [...]string{class, subject, detail} {
		if _, err := strconv.Atoi(p); err != nil || p == "" {
			return false
		}
	}
	return true
}

// Broken reports whether the connection can no longer be used (network
// failure, 421, cancelled context): dial a new one.
func (c *Conn) Broken() bool { return c.broken }

// Close says QUIT and closes the connection.
func (c *Conn) Close() error {
	if c.tp != nil && c.tp.W != nil {
		defer func() {
			putWriter(c.tp.W)
			c.tp.W = nil
			c.broken = true // a second Close only closes
		}()
	}
	c.stop.mu.Lock()
	if c.stop.timer != nil {
		c.stop.timer.Stop()
	}
	c.stop.mu.Unlock()
	if c.broken {
		return c.c.Close()
	}
	c.raw.SetDeadline(time.Now().Add(c.quitWait()))
	if c.tp != nil {
		// Best effort: the server may hang up first; nothing to report.
		if c.tp.PrintfLine("QUIT") == nil {
			c.tp.ReadResponse(221)
		}
		return c.conn.Close()
	}
	if err := c.c.Quit(); err != nil {
		c.c.Close()
	}
	return nil
}
