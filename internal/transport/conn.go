package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
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
	cfg  Config
	c    *smtp.Client // go-smtp's client: sign-in, and sending without PIPELINING
	raw  net.Conn     // the TCP connection
	conn net.Conn     // what carries SMTP: raw or TLS over it
	// tp carries the transactions when the server offers PIPELINING (go-smtp's
	// client waits for each reply); nil otherwise.
	tp     *textproto.Conn
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
	if !errors.As(err, &e) || !e.AuthFailure() || e.Code == 0 {
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
	smtpConn := raw
	switch cfg.Security {
	case account.SecurityTLS:
		tlsConn := tls.Client(raw, tc)
		raw.SetDeadline(time.Now().Add(cfg.timeout()))
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, newNetError(addr, "TLS", err)
		}
		raw.SetDeadline(time.Time{})
		smtpConn = tlsConn
		c = newClient(tlsConn, cfg)
	case account.SecurityStartTLS:
		tlsConn, err := startTLS(ctx, raw, tc, cfg, local)
		if err != nil {
			return nil, err
		}
		smtpConn = tlsConn
		// go-smtp continues on the TLS connection; it expects a greeting,
		// which in SMTP terms the 220 to STARTTLS was.
		c = newClient(&greeted{Conn: tlsConn, pending: []byte("220 TLS ready\r\n")}, cfg)
	default:
		c = newClient(raw, cfg)
	}
	if err := c.Hello(local); err != nil {
		return nil, replyError(addr, "EHLO", err)
	}
	if err := authenticate(c, cfg, token, addr); err != nil {
		c.Close()
		return nil, err
	}
	conn = &Conn{cfg: cfg, c: c, raw: raw, conn: smtpConn}
	if ok, _ := c.Extension("PIPELINING"); ok && !cfg.NoPipelining {
		// go-smtp has read the 235 and nothing else is pending: the
		// session can change hands here.
		conn.tp = textproto.NewConn(smtpConn)
	}
	return conn, nil
}

func newClient(conn net.Conn, cfg Config) *smtp.Client {
	c := smtp.NewClient(conn)
	c.CommandTimeout = cfg.timeout()
	return c
}

// startTLS does the clear-text part of a STARTTLS session itself (greeting,
// EHLO, STARTTLS) so that it holds the TLS connection afterwards. Nothing
// but EHLO and STARTTLS goes out before TLS: if the server does not offer
// STARTTLS, or it fails, no credentials are ever sent.
func startTLS(ctx context.Context, raw net.Conn, tc *tls.Config, cfg Config, local string) (*tls.Conn, error) {
	addr := cfg.Addr()
	raw.SetDeadline(time.Now().Add(cfg.timeout()))
	defer raw.SetDeadline(time.Time{})
	tp := textproto.NewConn(raw)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, replyError(addr, "connect", err)
	}
	if err := tp.PrintfLine("EHLO %s", local); err != nil {
		return nil, newNetError(addr, "EHLO", err)
	}
	_, ehlo, err := tp.ReadResponse(250)
	if err != nil {
		return nil, replyError(addr, "EHLO", err)
	}
	offered := false
	for _, line := range strings.Split(ehlo, "\n")[1:] {
		if strings.EqualFold(strings.TrimSpace(line), "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		return nil, &Error{Server: addr, Op: "STARTTLS", Class: Permanent, Err: ErrNoStartTLS,
			Advice: "The server did not offer STARTTLS, so no password or token was sent. Check the port " +
				"(587 for STARTTLS, 465 for security tls); use security none only for a trusted local relay"}
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, newNetError(addr, "STARTTLS", err)
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, replyError(addr, "STARTTLS", err)
	}
	// Bytes already waiting were sent before TLS by someone in the middle
	// (STARTTLS command injection): they must not be read as if protected.
	if tp.R.Buffered() > 0 {
		return nil, &Error{Server: addr, Op: "STARTTLS", Class: Permanent,
			Err: errors.New("the server sent data right after agreeing to STARTTLS (possible tampering); stopped")}
	}
	tlsConn := tls.Client(raw, tc)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		return nil, newNetError(addr, "STARTTLS", err)
	}
	return tlsConn, nil
}

// greeted replays pending before reading from Conn.
type greeted struct {
	net.Conn
	pending []byte
}

func (g *greeted) Read(p []byte) (int, error) {
	if len(g.pending) > 0 {
		n := copy(p, g.pending)
		g.pending = g.pending[n:]
		return n, nil
	}
	return g.Conn.Read(p)
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
	ok, offered := c.Extension("AUTH")
	if !ok {
		return &Error{Server: addr, Op: "AUTH", Class: Auth,
			Text:   "the server does not offer AUTH",
			Advice: "This server does not take sign-ins on this port: check the port and security (587 starttls or 465 tls), or use auth none for a relay that needs none"}
	}
	if !c.SupportsAuth(strings.ToUpper(string(cfg.Auth))) {
		return &Error{Server: addr, Op: "AUTH", Class: Auth,
			Text:   fmt.Sprintf("the server does not offer AUTH %s (it offers: %s)", strings.ToUpper(string(cfg.Auth)), offered),
			Advice: "Choose one of the offered methods with the account's auth setting; Google and Microsoft mailboxes need xoauth2"}
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

// replyError turns a go-smtp or textproto reply error into *Error.
func replyError(addr, op string, err error) error {
	var se *smtp.SMTPError
	var pe *textproto.Error
	if errors.As(err, &pe) {
		se = &smtp.SMTPError{Code: pe.Code, Message: pe.Msg}
	}
	if se != nil || errors.As(err, &se) {
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
	for _, a := range append(to, from) {
		if strings.ContainsAny(a, "\r\n<>") {
			return Reply{}, fmt.Errorf("address %q contains a line break or <>", a)
		}
	}
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
		return Reply{}, newNetError(addr, "DATA", err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return fail("DATA", "", err)
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
