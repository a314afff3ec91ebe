package peertest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// sinkServer is the SMTP server Dovecot relays accepted mail to (submission_relay_host in
// .ci/peers/dovecot/dovecot.conf): what arrives here is what the real server passed on.
type sinkServer struct {
	srv *smtp.Server

	mu       sync.Mutex
	messages []relayed
	arrived  chan struct{} // closed and replaced on every arrival
}

// relayed is one message as Dovecot relayed it.
type relayed struct {
	From string
	To   []string
	Data []byte
}

func startSink(addr string) (*sinkServer, error) {
	s := &sinkServer{arrived: make(chan struct{})}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{s: s}, nil
	}))
	s.srv.Domain = "sink.bluemoon.test"
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.MaxMessageBytes = 32 << 20
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail sink: listen on %s (Dovecot relays there; is another peertest run going?): %w", addr, err)
	}
	go s.srv.Serve(l)
	return s, nil
}

func (s *sinkServer) Close() { s.srv.Close() }

func (s *sinkServer) add(m relayed) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	close(s.arrived)
	s.arrived = make(chan struct{})
}

// waitMessageID returns the relayed message whose Message-ID is id. Dovecot relays within the
// DATA exchange, so it is normally there already; the bound only keeps a broken relay from
// hanging the test.
func (s *sinkServer) waitMessageID(t *testing.T, id string) (relayed, *mail.Message) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		for _, m := range s.messages {
			pm, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err == nil && pm.Header.Get("Message-Id") == id {
				s.mu.Unlock()
				return m, pm
			}
		}
		ch := s.arrived
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("message %s never reached the sink behind Dovecot", id)
		}
	}
}

// count is how many messages reached the sink so far.
func (s *sinkServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.messages)
}

type sinkSession struct {
	s   *sinkServer
	cur relayed
}

func (ss *sinkSession) Reset()        { ss.cur = relayed{} }
func (ss *sinkSession) Logout() error { return nil }
func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.cur.From = from
	return nil
}

// Recipients whose address starts with these prefixes are refused by the sink, so that tests
// see how the real server passes a downstream refusal on.
const (
	rejectPrefix = "reject-" // 550 5.1.1: no such mailbox
	deferPrefix  = "defer-"  // 450 4.2.1: mailbox busy, try later
)

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	switch {
	case strings.HasPrefix(to, rejectPrefix):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	case strings.HasPrefix(to, deferPrefix):
		return &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "Mailbox busy, try again later"}
	}
	ss.cur.To = append(ss.cur.To, to)
	return nil
}
func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.Data = b
	ss.s.add(ss.cur)
	return nil
}
