package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/account"
)

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
	token, rerr := cfg.Tokens.RefreshRefused(ctx, token)
	if rerr != nil {
		return nil, fmt.Errorf("%w; refreshing the token also failed: %w", err, rerr)
	}
	return dialAuth(ctx, cfg, token)
}

// worthRefreshing: the server refused the token itself (not the tenant
// setting or the auth method, which a new token does not change).
func worthRefreshing(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.AuthFailure() && e.Code != 0 && !e.settings
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
	raw = fastReads(raw) // below TLS too: every read of the session
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

	// Every reply is read through a replyLimiter: a server cannot make
	// any reader above it grow without bound.
	var c *smtp.Client
	var smtpConn *replyLimiter
	greetedBefore := false
	switch cfg.Security {
	case account.SecurityTLS:
		tlsConn := tls.Client(raw, tc)
		raw.SetDeadline(time.Now().Add(cfg.timeout()))
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return nil, newNetError(addr, "TLS", err)
		}
		raw.SetDeadline(time.Time{})
		smtpConn = limitReplies(tlsConn)
		c = newClient(smtpConn, cfg)
	case account.SecurityStartTLS:
		tlsConn, err := startTLS(ctx, raw, tc, cfg, local)
		if err != nil {
			return nil, err
		}
		smtpConn = limitReplies(tlsConn)
		greetedBefore = true
		// go-smtp continues on the TLS connection; it expects a greeting,
		// which in SMTP terms the 220 to STARTTLS was.
		c = newClient(&greeted{Conn: smtpConn, pending: []byte("220 TLS ready\r\n")}, cfg)
	default:
		smtpConn = limitReplies(raw)
		c = newClient(smtpConn, cfg)
	}
	if err := c.Hello(local); err != nil {
		if !greetedBefore && !smtpConn.greeted() {
			// go-smtp reads the greeting inside Hello: say which it was.
			return nil, greetingError(addr, cfg, err)
		}
		return nil, replyError(addr, "EHLO", err)
	}
	if err := authenticate(c, cfg, token, addr); err != nil {
		c.Close()
		return nil, err
	}
	conn = &Conn{cfg: cfg, c: c, raw: raw, conn: smtpConn, lim: smtpConn}
	if ok, _ := c.Extension("PIPELINING"); ok && !cfg.NoPipelining {
		watchLowWater(smtpConn, raw)
		// go-smtp has read the 235 and nothing else is pending: the
		// session can change hands here.
		conn.tp = textproto.NewConn(smtpConn)
		// A batch of messages goes out in one write: textproto's 4 KiB
		// buffer would split it into several system calls.
		conn.tp.W = getWriter(smtpConn)
		ok, _ := c.Extension("CHUNKING")
		conn.chunking = ok && !cfg.NoChunking
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
	tp := textproto.NewConn(limitReplies(raw))
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, greetingError(addr, cfg, err)
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
			Reason: "starttls_missing", Advice: "The server did not offer STARTTLS, so no password or token was sent. Check the port " +
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

// greetingError is the error for a greeting that never came, never ended
// or was a refusal: a silent server is most often a TLS port reached
// without TLS (465 with security starttls), which deserves saying.
func greetingError(addr string, cfg Config, err error) *Error {
	e := replyError(addr, "greeting", err)
	var ne net.Error
	if e.Code == 0 && errors.As(err, &ne) && ne.Timeout() {
		e.Err = fmt.Errorf("the server sent no complete greeting within %s: %w", cfg.timeout(), err)
		e.Advice = "Check the host and port; a port that expects TLS at once (465) needs security tls, 587 and 25 need starttls"
	}
	return e
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
			Reason: "no_auth_offered", Advice: "This server does not take sign-ins on this port: check the port and security (587 starttls or 465 tls), or use auth none for a relay that needs none"}
	}
	if !c.SupportsAuth(strings.ToUpper(string(cfg.Auth))) {
		return &Error{Server: addr, Op: "AUTH", Class: Auth,
			Text:   fmt.Sprintf("the server does not offer AUTH %s (it offers: %s)", strings.ToUpper(string(cfg.Auth)), offered),
			Reason: "auth_method_missing", Advice: "Choose one of the offered methods with the account's auth setting; Google and Microsoft mailboxes need xoauth2"}
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
	e := &Error{Server: addr, Op: "AUTH", Code: se.Code, Enhanced: enh, Text: text, password: x == nil}
	if x != nil && len(x.challenge) > 0 {
		e.Challenge = string(x.challenge)
	}
	classify(e)
	return e
}
