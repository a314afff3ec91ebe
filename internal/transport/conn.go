package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/account"
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
	cfg    Config
	c      *smtp.Client
	raw    net.Conn
	broken bool
	// Sent counts messages accepted on this connection (for the
	// messages-per-connection limit).
	Sent int
}

// Dial connects, secures and authenticates a session. With XOAUTH2 it takes
// a token from cfg.Tokens; if the server refuses it, Dial forces one refresh
// and tries once more on a new connection, so a token revoked or expired
// early costs one retry, not a failure.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	token := ""
	if cfg.Auth == account.AuthXOAuth2 {
		t, err := cfg.Tokens.AccessToken(ctx)
		if err != nil {
			return nil, fmt.Errorf("get access token: %w", err)
		}
		token = t
	}
	c, err := dialAuth(ctx, cfg, token)
	if err == nil || cfg.Auth != account.AuthXOAuth2 || !worthRefreshing(err) {
		return c, err
	}
	token, rerr := cfg.Tokens.Refresh(ctx)
	if rerr != nil {
		return nil, fmt.Errorf("%w; refreshing the token also failed: %w", err, rerr)
	}
	return dialAuth(ctx, cfg, token)
}

// worthRefreshing: the server refused the token itself (not the tenant
// setting or the auth method, which a new token does not change).
func worthRefreshing(err error) bool {
	var e *Error
	if !errors.As(err, &e) || !e.AuthFailure() {
		return false
	}
	switch e.Enhanced {
	case "5.7.139", "5.7.30", "5.7.57":
		return false
	}
	return true
}

func dialAuth(ctx context.Context, cfg Config, token string) (conn *Conn, err error) {
	addr := cfg.Addr()
	dial := cfg.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: cfg.timeout()}).DialContext
	}
	raw, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, newNetError(addr, "connect", err)
	}
	defer func() {
		if err != nil {
			raw.Close()
		}
	}()
	// A cancelled context interrupts whatever exchange is under way.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()

	tc, err := cfg.tlsConfig()
	if err != nil {
		return nil, err
	}
	local := cfg.LocalName
	if local == "" {
		local = "localhost"
	}

	var c *smtp.Client
	switch cfg.Security {
	case account.SecurityTLS:
		tlsConn := tls.Client(raw, tc)
		raw.SetDeadline(time.Now().Add(cfg.timeout()))
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, newNetError(addr, "TLS", err)
		}
		raw.SetDeadline(time.Time{})
		c = newClient(tlsConn, cfg)
		if err := c.Hello(local); err != nil {
			return nil, replyError(addr, "EHLO", err)
		}
	case account.SecurityStartTLS:
		// NewClientStartTLS stops before STARTTLS when the server does
		// not offer it: nothing, credentials least of all, goes out in
		// the clear.
		c, err = smtp.NewClientStartTLS(raw, tc)
		if err != nil {
			return nil, startTLSError(addr, err)
		}
		c.CommandTimeout = cfg.timeout()
		if err := c.Hello(local); err != nil {
			return nil, startTLSError(addr, err)
		}
		if _, ok := c.TLSConnectionState(); !ok {
			return nil, &Error{Server: addr, Op: "STARTTLS", Class: Permanent, Err: ErrNoStartTLS}
		}
	default:
		c = newClient(raw, cfg)
		if err := c.Hello(local); err != nil {
			return nil, replyError(addr, "EHLO", err)
		}
	}

	if err := authenticate(c, cfg, token, addr); err != nil {
		c.Close()
		return nil, err
	}
	return &Conn{cfg: cfg, c: c, raw: raw}, nil
}

func newClient(conn net.Conn, cfg Config) *smtp.Client {
	c := smtp.NewClient(conn)
	c.CommandTimeout = cfg.timeout()
	return c
}

func startTLSError(addr string, err error) error {
	if err != nil && strings.Contains(err.Error(), "doesn't support STARTTLS") {
		return &Error{Server: addr, Op: "STARTTLS", Class: Permanent, Err: ErrNoStartTLS,
			Advice: "The server did not offer STARTTLS, so no password or token was sent. Check the port " +
				"(587 for STARTTLS, 465 for security tls); use security none only for a trusted local relay"}
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return replyError(addr, "STARTTLS", err)
	}
	return newNetError(addr, "STARTTLS", err)
}

func authenticate(c *smtp.Client, cfg Config, token, addr string) error {
	var mech sasl.Client
	var x *xoauth2
	switch cfg.Auth {
	case account.AuthNone:
		return nil
	case account.AuthXOAuth2:
		x = &xoauth2{user: cfg.Username, token: token}
		mech = x
	case account.AuthPlain:
		mech = sasl.NewPlainClient("", cfg.Username, cfg.Password)
	case account.AuthLogin:
		mech = sasl.NewLoginClient(cfg.Username, cfg.Password)
	}
	if ok, _ := c.Extension("AUTH"); !ok {
		return &Error{Server: addr, Op: "AUTH", Class: Auth,
			Text:   "the server does not offer AUTH",
			Advice: "This server does not take sign-ins on this port: check the port and security (587 starttls or 465 tls), or use auth none for a relay that needs none"}
	}
	err := c.Auth(mech)
	if err == nil {
		return nil
	}
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return newNetError(addr, "AUTH", err)
	}
	enh, text := enhancedOf(se)
	e := &Error{Server: addr, Op: "AUTH", Code: se.Code, Enhanced: enh, Text: text}
	if x != nil && len(x.challenge) > 0 {
		e.Challenge = string(x.challenge)
	}
	classify(e)
	return e
}

// replyError turns a go-smtp error into *Error.
func replyError(addr, op string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		enh, text := enhancedOf(se)
		return newReplyError(addr, op, se.Code, enh, text)
	}
	return newNetError(addr, op, err)
}

// enhancedOf returns the reply's enhanced code and text. go-smtp finds the
// code only when the first line starts with it; servers differ (go-smtp's
// own puts it on the last line only), so look at every line and drop the
// repeats.
func enhancedOf(se *smtp.SMTPError) (string, string) {
	enh := fmtEnhanced(se.EnhancedCode)
	lines := strings.Split(se.Message, "\n")
	for i, l := range lines {
		first, rest, _ := strings.Cut(l, " ")
		if isEnhanced(first) && (enh == "" || enh == first) {
			enh = first
			lines[i] = strings.TrimLeft(rest, " ")
		}
	}
	return enh, strings.Join(lines, " ")
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
	if len(to) == 0 {
		return Reply{}, errors.New("no recipients")
	}
	stop := context.AfterFunc(ctx, func() { c.raw.Close() })
	defer stop()
	addr := c.cfg.Addr()

	fail := func(op, rcpt string, err error) (Reply, error) {
		e := replyError(addr, op, err)
		if te, ok := e.(*Error); ok {
			te.Recipient = rcpt
			if te.Code == 0 || te.Code == 421 {
				c.broken = true
			}
		}
		if !c.broken {
			if rerr := c.c.Reset(); rerr != nil {
				c.broken = true
			}
		}
		if ctx.Err() != nil {
			c.broken = true
			return Reply{}, fmt.Errorf("%w (%w)", ctx.Err(), e)
		}
		return Reply{}, e
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
		return Reply{}, newNetError(addr, "DATA", err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return fail("DATA", "", err)
	}
	c.Sent++
	return parseReply(250, resp.StatusText), nil
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

func isEnhanced(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return false
	}
	for _, p := range parts {
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
	if c.broken {
		return c.c.Close()
	}
	c.raw.SetDeadline(time.Now().Add(5 * time.Second))
	if err := c.c.Quit(); err != nil {
		c.c.Close()
		return nil // the server may hang up first; nothing to report
	}
	return nil
}
