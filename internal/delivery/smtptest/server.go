// Package smtptest is a real SMTP server on 127.0.0.1 (go-smtp) for the
// delivery engine's tests and benchmarks: it records or discards what it
// receives and answers chosen recipients with chosen replies. It also has
// a minimal go-smtp client session usable as the engine's Mailer.
package smtptest

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is one message as the server got it.
type Received struct {
	From string
	To   []string
	Data []byte
}

// Server is a running SMTP server.
type Server struct {
	Addr string
	// Discard keeps no message (benchmarks); Count still counts them.
	Discard bool
	// RcptReply, when set, may refuse a recipient with an *smtp.SMTPError.
	RcptReply func(rcpt string) error
	// DataReply, when set, may refuse a message at the end of DATA with an
	// *smtp.SMTPError (Microsoft's quota refusals come there); n counts
	// the messages accepted so far. A refused message is not recorded.
	DataReply func(n int64) error
	// OnData, when set, is called with each message after it is recorded
	// and before the server answers (a test kills the client there).
	OnData func(n int64)
	// User and Password, when set, make AUTH PLAIN required and checked.
	User, Password string
	// Delay holds each message's final reply back this long: a slow
	// server (pipelined messages wait their turn behind it).
	Delay time.Duration
	// TLS serves implicit TLS (as on port 465) with a certificate for
	// 127.0.0.1 signed by CAPEM, which Start fills in.
	TLS   bool
	CAPEM []byte
	// Arrivals makes the server note when each MAIL command arrives (see
	// MailCommandsSince); plain text only.
	Arrivals bool
	// GroupReplies holds the server's replies until it waits for input,
	// as Postfix's smtpd does: a pipelined group is answered in one
	// segment rather than one per reply.
	GroupReplies bool

	srv      *smtp.Server
	mu       sync.Mutex
	received []Received
	count    atomic.Int64
	logins   atomic.Int64
	open     atomic.Int64 // sessions not yet ended
	arrivals arrivals
}

// Start listens on a free loopback port and serves until Close.
func Start(configure func(*Server)) (*Server, error) {
	s := &Server{}
	if configure != nil {
		configure(s)
	}
	var l net.Listener
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Addr = l.Addr().String()
	if s.GroupReplies {
		l = groupListener{l}
	}
	if s.TLS {
		cert, ca, err := selfSigned()
		if err != nil {
			l.Close()
			return nil, err
		}
		s.CAPEM = ca
		l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	} else if s.Arrivals {
		l = &eagerListener{Listener: l, log: &s.arrivals}
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.open.Add(1)
		se := &session{s: s}
		if e, ok := c.Conn().(*eagerConn); ok {
			se.gone = e.gone
		}
		return se, nil
	}))
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.MaxRecipients = 100
	go s.srv.Serve(l)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// WaitIdle waits until every session has ended, at most timeout, and
// reports whether they did. A client killed with pipelined messages
// still queued leaves the server reading them after it died: count what
// was received only after this.
func (s *Server) WaitIdle(timeout time.Duration) bool {
	end := time.Now().Add(timeout)
	for s.open.Load() > 0 {
		if time.Now().After(end) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

// Count is the number of messages accepted.
func (s *Server) Count() int64 { return s.count.Load() }

// Logins is the number of successful AUTH commands.
func (s *Server) Logins() int64 { return s.logins.Load() }

// Messages returns a copy of what was received.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

type session struct {
	s      *Server
	gone   chan struct{} // closed when the client hangs up (Arrivals only)
	authed bool
	from   string
	to     []string
}

func (se *session) AuthMechanisms() []string {
	if se.s.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != se.s.User || pass != se.s.Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication failed"}
		}
		se.authed = true
		se.s.logins.Add(1)
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.User != "" && !se.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if f := se.s.RcptReply; f != nil {
		if err := f(to); err != nil {
			return err
		}
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	if se.s.Delay > 0 {
		defer se.wait(se.s.Delay)
	}
	if se.s.Discard {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		se.s.count.Add(1)
		return nil
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if se.s.DataReply != nil {
		if err := se.s.DataReply(se.s.count.Load()); err != nil {
			return err
		}
	}
	se.s.mu.Lock()
	se.s.received = append(se.s.received, Received{From: se.from, To: append([]string(nil), se.to...), Data: b})
	se.s.mu.Unlock()
	n := se.s.count.Add(1)
	if se.s.OnData != nil {
		se.s.OnData(n)
	}
	return nil
}

// wait sleeps d, or less if the client hangs up meanwhile.
func (se *session) wait(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-se.gone: // nil unless noted: never
	}
}

func (se *session) Reset() { se.from, se.to = "", se.to[:0] }
func (se *session) Logout() error {
	se.s.open.Add(-1)
	return nil
}

// Error is a client-side failure classified the way the engine branches.
type Error struct {
	Err  error
	Code int // SMTP reply code, 0 for a network error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Temporary: 4xx replies and network failures.
func (e *Error) Temporary() bool { return e.Code == 0 || e.Code/100 == 4 }

// AuthFailure: the server refused the credentials.
func (e *Error) AuthFailure() bool { return e.Code == 535 || e.Code == 534 || e.Code == 530 }

func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &Error{Err: err, Code: se.Code}
	}
	return &Error{Err: err}
}

// Client is one plain-text SMTP session on a go-smtp client.
type Client struct {
	c *smtp.Client
}

// Dial opens a session to addr, authenticating with PLAIN when user is set.
func Dial(addr, user, pass string) (*Client, error) {
	c, err := smtp.Dial(addr)
	if err != nil {
		return nil, classify(err)
	}
	if err := c.Hello("localhost"); err != nil {
		c.Close()
		return nil, classify(err)
	}
	if user != "" {
		if err := c.Auth(sasl.NewPlainClient("", user, pass)); err != nil {
			c.Close()
			return nil, classify(err)
		}
	}
	return &Client{c: c}, nil
}

// Send sends one message and returns the server's reply to the data.
func (c *Client) Send(_ context.Context, from string, to []string, msg []byte) (string, error) {
	if err := c.c.Mail(from, nil); err != nil {
		c.c.Reset()
		return "", classify(err)
	}
	for _, t := range to {
		if err := c.c.Rcpt(t, nil); err != nil {
			c.c.Reset()
			return "", classify(err)
		}
	}
	w, err := c.c.Data()
	if err != nil {
		return "", classify(err)
	}
	if _, err := w.Write(msg); err != nil {
		return "", classify(err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", classify(err)
	}
	return "250 " + strings.TrimSpace(resp.StatusText), nil
}

// Close ends the session politely.
func (c *Client) Close() error {
	if err := c.c.Quit(); err == nil {
		return nil // QUIT closed the connection
	}
	return c.c.Close()
}
