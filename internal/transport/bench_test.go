package transport_test

import (
	"context"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// BenchmarkSend: messages over one authenticated STARTTLS session to an
// in-process discard server on loopback (client and server share the
// CPU, so this is a floor, not a network figure). Each message costs
// MAIL, RCPT, DATA and the end-of-data round trips without pipelining,
// two with it.
func BenchmarkSend(b *testing.B)             { benchmarkSend(b, false) }
func BenchmarkSendNoPipelining(b *testing.B) { benchmarkSend(b, true) }

func benchmarkSend(b *testing.B, noPipelining bool) {
	s, err := smtpsrv.Start(smtpsrv.Options{Discard: true, Passwords: map[string]string{user: password}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	m := &message.Message{From: message.Address{Name: "Acme", Addr: user}, To: []message.Address{{Addr: "bob@example.org"}},
		Subject: "November newsletter", Text: "Hello Bob,\n\nHere is what is new.\n"}
	raw, err := m.Bytes()
	if err != nil {
		b.Fatal(err)
	}
	cfg := transport.Config{Host: s.Host(), Port: s.Port(), Security: account.SecurityStartTLS, Auth: account.AuthPlain,
		Username: user, Password: password, RootCAs: s.CertPool(), NoPipelining: noPipelining}
	c, err := transport.Dial(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	to := []string{"bob@example.org"}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := c.Send(context.Background(), user, to, raw); err != nil {
			b.Fatal(err)
		}
	}
}
