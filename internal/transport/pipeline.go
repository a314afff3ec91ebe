package transport

import (
	"context"
	"errors"
	"net/textproto"
	"time"
)

// sendPipelined sends MAIL, every RCPT and DATA in one write and then reads
// their replies (RFC 2920), then the message and its final reply: two round
// trips a message instead of 3 + recipients. go-smtp's client cannot do
// this, so the session passes to a textproto.Conn after sign-in.
func (c *Conn) sendPipelined(ctx context.Context, from string, to []string, msg []byte) (Reply, error) {
	addr := c.cfg.Addr()
	c.conn.SetDeadline(time.Now().Add(c.cfg.timeout()))
	defer c.conn.SetDeadline(time.Time{})

	// A batch may have left a refused transaction open: reset it in the
	// same write, as the next batch would.
	reset := c.needReset
	c.needReset = false
	w := c.tp.W
	writeCommands(w, &Envelope{From: from, To: to}, reset)
	w.WriteString("DATA\r\n")
	if err := w.Flush(); err != nil {
		c.broken = true
		return c.fail(ctx, newNetError(addr, "MAIL", err), "")
	}

	// Every reply must be read, in order, even after a refusal.
	var first error
	note := func(op, rcpt string, err error) bool {
		var pe *textproto.Error
		if !errors.As(err, &pe) { // network: the session is gone
			c.broken = true
			if first == nil {
				first = newNetError(addr, op, err)
			}
			return false
		}
		if first == nil {
			e := replyError(addr, op, err)
			e.Recipient = rcpt
			first = e
		}
		return true
	}
	if reset {
		if _, _, err := c.tp.ReadResponse(250); err != nil && !note("RSET", "", err) {
			return c.fail(ctx, first, "")
		}
	}
	if _, _, err := c.tp.ReadResponse(250); err != nil && !note("MAIL", "", err) {
		return c.fail(ctx, first, "")
	}
	for _, r := range to {
		if _, _, err := c.tp.ReadResponse(25); err != nil && !note("RCPT", r, err) {
			return c.fail(ctx, first, "")
		}
	}
	_, _, err := c.tp.ReadResponse(354)
	if err != nil && !note("DATA", "", err) {
		return c.fail(ctx, first, "")
	}
	if first != nil {
		if err == nil {
			// The server waits for the message although a recipient was
			// refused. Ending the data would deliver an empty message to
			// the others: hang up instead, which discards the transaction.
			c.broken = true
			c.conn.Close()
		}
		return c.fail(ctx, first, recipientOf(first))
	}

	// The upload may take longer than one command on a slow line: allow
	// 16 KB/s on top of the command timeout.
	c.conn.SetDeadline(time.Now().Add(c.cfg.timeout() + time.Duration(len(msg)/16384)*time.Second))
	dw := c.tp.DotWriter()
	if _, err := dw.Write(msg); err != nil {
		c.broken = true
		return c.fail(ctx, uncertainError(addr, c.why(err)), "")
	}
	if err := dw.Close(); err != nil {
		c.broken = true
		return c.fail(ctx, uncertainError(addr, c.why(err)), "")
	}
	// RFC 5321 4.5.3.2.6: a server may take 10 minutes to accept the data.
	c.conn.SetDeadline(time.Now().Add(10 * time.Minute))
	code, text, err := c.tp.ReadResponse(250)
	if err != nil {
		return c.fail(ctx, dataReplyError(addr, c.why(err)), "")
	}
	c.Sent++
	return parseReply(code, text), nil
}

func recipientOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Recipient
	}
	return ""
}
