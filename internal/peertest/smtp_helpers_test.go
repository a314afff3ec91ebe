package peertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"mime"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// dovecotChallenge is Dovecot's XOAUTH2 failure challenge, decoded: what the transport must keep
// for the error (the "scope" is the one set in .ci/peers/dovecot/oauth2.conf.ext).
const dovecotChallenge = `{"status":"401","schemes":"bearer","scope":"mail"}`

// peerConfig is a transport configuration for Dovecot at addr, trusting the test CA through the
// account's extra-CA-file setting as a user would.
func peerConfig(t *testing.T, addr string, sec account.Security, auth account.AuthMethod) transport.Config {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := strconv.Atoi(port)
	return transport.Config{
		Host: host, Port: p, Security: sec, Auth: auth,
		CAFile: env.CAFile, LocalName: "client.bluemoon.test", Timeout: 30 * time.Second,
	}
}

// securities are the two ways to reach Dovecot, with its address for each.
func securities(p *peers) []struct {
	name string
	sec  account.Security
	addr string
} {
	return []struct {
		name string
		sec  account.Security
		addr string
	}{
		{"starttls", account.SecurityStartTLS, p.Submission},
		{"tls", account.SecurityTLS, p.Submissions},
	}
}

func uniqueID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// testMessage builds a Japanese message with a Message-ID the sink can find.
func testMessage(t *testing.T, from, to, charset string) (*message.Message, []byte) {
	t.Helper()
	m := &message.Message{
		From:      message.Address{Name: "配信 テスト", Addr: from},
		To:        []message.Address{{Name: "受信者", Addr: to}},
		Subject:   "本物のサーバー経由の確認 " + uniqueID(),
		Text:      "こんにちは。\nDovecot を通った本文です。\n",
		Charset:   charset,
		MessageID: uniqueID() + "@bluemoon.test",
	}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return m, b
}

// sendAndCheck sends one message on c and checks that the sink behind Dovecot got it, with the
// envelope and the decoded subject a reader would see.
func sendAndCheck(t *testing.T, c *transport.Conn, from, to, charset string) {
	t.Helper()
	m, raw := testMessage(t, from, to, charset)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	reply, err := c.Send(ctx, from, []string{to}, raw)
	if err != nil {
		t.Fatalf("send through Dovecot: %v", err)
	}
	if reply.Code != 250 {
		t.Fatalf("final reply %s, want 250", reply)
	}
	got, pm := sink.waitMessageID(t, "<"+m.MessageID+">")
	if got.From != from || len(got.To) != 1 || got.To[0] != to {
		t.Errorf("relayed envelope from %q to %q, want %q to [%q]", got.From, got.To, from, to)
	}
	dec := mime.WordDecoder{CharsetReader: charsetReader}
	subj, err := dec.DecodeHeader(pm.Header.Get("Subject"))
	if err != nil || subj != m.Subject {
		t.Errorf("relayed subject %q (%v), want %q", subj, err, m.Subject)
	}
	body, err := textBody(pm)
	if err != nil || body != m.Text {
		t.Errorf("relayed body %q (%v), want %q", body, err, m.Text)
	}
}

func dial(t *testing.T, cfg transport.Config) (*transport.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := transport.Dial(ctx, cfg)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

// authError asserts err is the transport's authentication failure for the reply 535 5.7.8.
func authError(t *testing.T, err error) *transport.Error {
	t.Helper()
	if err == nil {
		t.Fatal("Dovecot accepted what it should have refused")
	}
	if !transport.IsAuthFailure(err) {
		t.Fatalf("error is not an authentication failure: %v", err)
	}
	if transport.IsTemporary(err) {
		t.Fatalf("authentication failure classed as temporary: %v", err)
	}
	var te *transport.Error
	if !errors.As(err, &te) {
		t.Fatalf("error is not a *transport.Error: %v", err)
	}
	if te.Code != 535 || te.Enhanced != "5.7.8" || te.Op != "AUTH" {
		t.Fatalf("reply %q at %s, want 535 5.7.8 at AUTH", te.ReplyLine(), te.Op)
	}
	// Gmail answers 535 5.7.8 too; the advice must not send a Dovecot or Postfix user to Google.
	if strings.Contains(te.Advice, "Google") {
		t.Errorf("advice for a non-Google server talks about Google: %v", err)
	}
	return te
}
