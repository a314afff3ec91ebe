// Package smtpsrv is an in-process SMTP server on 127.0.0.1 that behaves
// like smtp.gmail.com or smtp.office365.com where it matters to a client:
// implicit TLS or STARTTLS with its own CA, AUTH XOAUTH2 / PLAIN / LOGIN
// only after TLS, each provider's refusal replies, Microsoft's "SMTP AUTH
// disabled" switch, per-minute throttling, and a record of what it accepted.
package smtpsrv

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/loopback"
)

// Flavor picks whose replies the server imitates.
type Flavor int

const (
	Gmail Flavor = iota
	Microsoft
)

// Security is how clients reach the server.
type Security int

const (
	StartTLS    Security = iota // plain connect, STARTTLS offered (587)
	ImplicitTLS                 // TLS from the first byte (465)
	NoTLS                       // no TLS at all; AUTH offered in the clear
)

// Options configure a Server. Zero values give a Gmail-like STARTTLS server.
type Options struct {
	Flavor   Flavor
	Security Security
	// CheckToken validates an XOAUTH2 bearer token for user (the OAuth
	// stand-in's ValidateAccessToken fits). nil refuses every token.
	CheckToken func(user, token string) error
	// Passwords for PLAIN / LOGIN, by user name.
	Passwords map[string]string
	// Mechanisms offered; default XOAUTH2, PLAIN, LOGIN.
	Mechanisms []string
	// AllowAnonymous accepts MAIL without AUTH (a relay).
	AllowAnonymous bool
	// PerMinute throttles: more accepted messages than this in one minute
	// get 421 4.7.0 (Gmail) or 451 4.7.500 (Microsoft). 0: no limit.
	PerMinute int
	// RequireClientCert asks for a TLS client certificate signed by the CA.
	RequireClientCert bool
	// Discard keeps no message bodies (benchmarks); counts still kept.
	Discard bool
	// Now replaces the clock (throttling tests).
	Now func() time.Time
	// UnknownRecipients get 550 5.1.1 at RCPT.
	UnknownRecipients []string
	// Transcript receives the raw protocol exchange (both directions).
	Transcript io.Writer
	// Addr is where to listen (default 127.0.0.1:0, a free port); the
	// sandbox asks for the port it had last time so accounts keep working.
	Addr string
	// Deliver, when set, is given each accepted message before the reply;
	// an error refuses it with 451 so the sender keeps it and retries (the
	// sandbox's mailbox could not store it). The message is then Deliver's
	// to keep: Messages does not hold it too, so a long sandbox session
	// does not carry every body it ever accepted in memory.
	Deliver func(Message) error
}

// Message is one accepted message.
type Message struct {
	User string // authenticated user; "" when anonymous
	From string
	To   []string
	Data []byte
	At   time.Time
}

// Stage is where a fault is injected.
type Stage string

const (
	StageAuth Stage = "AUTH"
	StageMail Stage = "MAIL"
	StageRcpt Stage = "RCPT"
	StageData Stage = "DATA"
)

// Server is a running stand-in.
type Server struct {
	opts Options
	ca   *authority
	srv  *smtp.Server
	ln   net.Listener

	mu           sync.Mutex
	messages     []Message
	accepted     int
	authOK       map[string]int // successful AUTHs by mechanism
	authFailed   int
	connections  int
	window       time.Time
	windowCount  int
	authDisabled bool
	faults       map[Stage]*smtp.SMTPError
}

// Start listens on 127.0.0.1 (a free port) and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.Mechanisms) == 0 {
		opts.Mechanisms = []string{"XOAUTH2", "PLAIN", "LOGIN"}
	}
	ca, err := newAuthority()
	if err != nil {
		return nil, fmt.Errorf("sandbox CA: %w", err)
	}
	s := &Server{opts: opts, ca: ca, authOK: map[string]int{}, faults: map[Stage]*smtp.SMTPError{}}
	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.MaxMessageBytes = 35 << 20
	srv.ErrorLog = quietLog{}
	if opts.Transcript != nil {
		srv.Debug = opts.Transcript
	}
	tc := &tls.Config{Certificates: []tls.Certificate{ca.server}, MinVersion: tls.VersionTLS12}
	if opts.RequireClientCert {
		tc.ClientAuth = tls.RequireAndVerifyClientCert
		tc.ClientCAs = s.CertPool()
	}
	switch opts.Security {
	case StartTLS:
		srv.TLSConfig = tc
	case NoTLS:
		srv.AllowInsecureAuth = true
	}
	ln, err := loopback.Listen(opts.Addr)
	if err != nil {
		return nil, err
	}
	ln = countingListener{Listener: ln, s: s}
	if opts.Security == ImplicitTLS {
		ln = tls.NewListener(ln, tc)
	}
	s.srv, s.ln = srv, ln
	go srv.Serve(ln)
	return s, nil
}

// countingListener counts TCP connections (go-smtp starts a new session
// after STARTTLS, so sessions are not connections).
type countingListener struct {
	net.Listener
	s *Server
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.s.mu.Lock()
		l.s.connections++
		l.s.mu.Unlock()
	}
	return c, err
}

type quietLog struct{}

func (quietLog) Printf(string, ...any) {}
func (quietLog) Println(...any)        {}

// Addr is "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host is "127.0.0.1".
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the listening port.
func (s *Server) Port() int { return loopback.Port(s.ln) }

// Close stops the server and drops its connections.
func (s *Server) Close() error { return s.srv.Close() }

// SetSMTPAuthDisabled makes every AUTH fail the way Microsoft does when an
// administrator has not enabled authenticated SMTP (535 5.7.139).
func (s *Server) SetSMTPAuthDisabled(on bool) {
	s.mu.Lock()
	s.authDisabled = on
	s.mu.Unlock()
}

// SetFault makes every command at stage get reply (nil clears it), e.g.
// SetFault(StageData, 554, "5.2.0", "STOREDRV.Submission.Exception:SubmissionQuotaExceededException").
func (s *Server) SetFault(stage Stage, code int, enhanced string, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.faults, stage)
		return
	}
	s.faults[stage] = &smtp.SMTPError{Code: code, EnhancedCode: parseEnhanced(enhanced), Message: text}
}

func parseEnhanced(s string) smtp.EnhancedCode {
	var c smtp.EnhancedCode
	if _, err := fmt.Sscanf(s, "%d.%d.%d", &c[0], &c[1], &c[2]); err != nil {
		return smtp.NoEnhancedCode
	}
	return c
}

func (s *Server) fault(stage Stage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.faults[stage]; f != nil {
		return f
	}
	return nil
}

// SetUnknownRecipients replaces the addresses refused with 550 5.1.1 (a
// mailbox created since, a typo fixed at the provider).
func (s *Server) SetUnknownRecipients(addrs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.UnknownRecipients = append([]string(nil), addrs...)
}

func (s *Server) unknown(rcpt string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.opts.UnknownRecipients {
		if strings.EqualFold(u, rcpt) {
			return true
		}
	}
	return false
}

// Messages returns a copy of the accepted messages, oldest first (none
// with Discard or Deliver).
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Accepted counts accepted messages (also in Discard mode).
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Stats are counters tests assert on.
type Stats struct {
	Connections int
	AuthOK      map[string]int
	AuthFailed  int
}

func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := map[string]int{}
	for k, v := range s.authOK {
		ok[k] = v
	}
	return Stats{Connections: s.connections, AuthOK: ok, AuthFailed: s.authFailed}
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

// throttle counts one message in the current minute and says whether it
// is over the limit.
func (s *Server) throttle() error {
	if s.opts.PerMinute <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if now.Sub(s.window) >= time.Minute {
		s.window, s.windowCount = now, 0
	}
	if s.windowCount >= s.opts.PerMinute {
		if s.opts.Flavor == Microsoft {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 500},
				Message: "Server busy. Please try again later from [127.0.0.1]. (S77719) [sandbox.outlook]"}
		}
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
			Message: "Try again later, closing connection. (MAIL) sandbox.gsmtp"}
	}
	s.windowCount++
	return nil
}
