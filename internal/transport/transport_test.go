package transport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

const (
	user     = "taro@example.com"
	password = "s3cret-pässword"
	goodTok  = "ya29.good-token"
)

// tokens is a fake TokenSource that counts its calls and hands out the
// tokens queued in it (the last one repeats).
type tokens struct {
	mu              sync.Mutex
	current, fresh  string
	gets, refreshes int
}

func (t *tokens) AccessToken(context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gets++
	return t.current, nil
}

func (t *tokens) RefreshRefused(context.Context, string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refreshes++
	t.current = t.fresh
	return t.current, nil
}

func checkToken(u, tok string) error {
	if u == user && tok == goodTok {
		return nil
	}
	return errors.New("invalid token")
}

func start(t *testing.T, opts smtpsrv.Options) *smtpsrv.Server {
	t.Helper()
	if opts.CheckToken == nil {
		opts.CheckToken = checkToken
	}
	if opts.Passwords == nil {
		opts.Passwords = map[string]string{user: password}
	}
	s, err := smtpsrv.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func config(s *smtpsrv.Server, sec account.Security, auth account.AuthMethod) transport.Config {
	return transport.Config{
		Host: s.Host(), Port: s.Port(), Security: sec, Auth: auth,
		Username: user, Password: password, Tokens: &tokens{current: goodTok, fresh: goodTok},
		RootCAs: s.CertPool(),
	}
}

func build(t *testing.T, subject string) []byte {
	t.Helper()
	m := &message.Message{From: message.Address{Name: "山田 太郎", Addr: user},
		To: []message.Address{{Name: "佐藤 様", Addr: "hanako@example.org"}}, Subject: subject, Text: "本文です。\n"}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSendOverTLSAndSTARTTLSWithEachMechanism(t *testing.T) {
	for _, flavor := range []smtpsrv.Flavor{smtpsrv.Gmail, smtpsrv.Microsoft} {
		for _, sec := range []struct {
			srv smtpsrv.Security
			acc account.Security
		}{{smtpsrv.StartTLS, account.SecurityStartTLS}, {smtpsrv.ImplicitTLS, account.SecurityTLS}} {
			for _, mech := range []account.AuthMethod{account.AuthXOAuth2, account.AuthPlain, account.AuthLogin} {
				t.Run(fmt.Sprintf("%d/%s/%s", flavor, sec.acc, mech), func(t *testing.T) {
					s := start(t, smtpsrv.Options{Flavor: flavor, Security: sec.srv})
					c, err := transport.Dial(context.Background(), config(s, sec.acc, mech))
					if err != nil {
						t.Fatal(err)
					}
					defer c.Close()
					var sent [][]byte
					for i := range 3 { // one connection, several messages
						msg := build(t, fmt.Sprintf("テスト %d", i))
						reply, err := c.Send(context.Background(), user, []string{"hanako@example.org"}, msg)
						if err != nil {
							t.Fatalf("message %d: %v", i, err)
						}
						if reply.Code != 250 || !strings.HasPrefix(reply.String(), "250 2.0.0 ") {
							t.Fatalf("reply %q", reply)
						}
						sent = append(sent, msg)
					}
					got := s.Messages()
					if len(got) != 3 {
						t.Fatalf("server accepted %d messages, want 3", len(got))
					}
					for i, m := range got {
						if m.User != user || m.From != user || len(m.To) != 1 || m.To[0] != "hanako@example.org" {
							t.Errorf("message %d envelope: %+v", i, m)
						}
						if !bytes.Equal(bytes.TrimSuffix(m.Data, []byte("\r\n")), bytes.TrimSuffix(sent[i], []byte("\r\n"))) {
							t.Errorf("message %d: bytes differ", i)
						}
					}
					if st := s.Stats(); st.AuthOK[strings.ToUpper(string(mech))] != 1 || st.Connections != 1 {
						t.Errorf("stats %+v: want one %s sign-in on one connection", st, mech)
					}
				})
			}
		}
	}
}

// A server that does not offer STARTTLS must not see the password: the
// client stops before AUTH. The transcript proves no AUTH line went out.
func TestNoCredentialsWithoutSTARTTLS(t *testing.T) {
	var transcript bytes.Buffer
	var mu sync.Mutex
	s := start(t, smtpsrv.Options{Security: smtpsrv.NoTLS, Transcript: lockedWriter{&mu, &transcript}})
	for _, mech := range []account.AuthMethod{account.AuthPlain, account.AuthXOAuth2} {
		_, err := transport.Dial(context.Background(), config(s, account.SecurityStartTLS, mech))
		if !errors.Is(err, transport.ErrNoStartTLS) {
			t.Fatalf("%s: err = %v, want ErrNoStartTLS", mech, err)
		}
		var te *transport.Error
		if !errors.As(err, &te) || te.Temporary() || !strings.Contains(te.Error(), "no password or token was sent") {
			t.Errorf("error %v: want permanent with an explanation", err)
		}
	}
	mu.Lock()
	seen := transcript.String()
	mu.Unlock()
	if !strings.Contains(seen, "EHLO") {
		t.Fatalf("transcript does not show the session: %q", seen)
	}
	for _, line := range strings.Split(seen, "\n") {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(line)), "AUTH") || strings.Contains(line, password) {
			t.Fatalf("credentials went out without TLS (%q):\n%s", line, seen)
		}
	}
	if s.Stats().AuthFailed+len(s.Stats().AuthOK) != 0 {
		t.Fatal("server saw an AUTH attempt")
	}

	// With security none the user asked for plain text: AUTH goes ahead.
	c, err := transport.Dial(context.Background(), config(s, account.SecurityNone, account.AuthPlain))
	if err != nil {
		t.Fatalf("security none: %v", err)
	}
	c.Close()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// An access token that expired (or was revoked) before its time: the
// server refuses it, Dial forces one refresh and signs in on a new
// connection. Every (re)connect takes its token from the source.
func TestExpiredTokenRefreshedAtReconnect(t *testing.T) {
	for _, flavor := range []smtpsrv.Flavor{smtpsrv.Gmail, smtpsrv.Microsoft} {
		s := start(t, smtpsrv.Options{Flavor: flavor})
		ts := &tokens{current: "ya29.expired", fresh: goodTok}
		cfg := config(s, account.SecurityStartTLS, account.AuthXOAuth2)
		cfg.Tokens = ts
		c, err := transport.Dial(context.Background(), cfg)
		if err != nil {
			t.Fatalf("flavor %d: %v", flavor, err)
		}
		if _, err := c.Send(context.Background(), user, []string{"x@example.org"}, build(t, "a")); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if ts.gets != 1 || ts.refreshes != 1 {
			t.Errorf("flavor %d: AccessToken %d times, Refresh %d times; want 1 and 1", flavor, ts.gets, ts.refreshes)
		}
		if st := s.Stats(); st.AuthFailed != 1 || st.AuthOK["XOAUTH2"] != 1 || st.Connections != 2 {
			t.Errorf("flavor %d: stats %+v, want 1 refusal, 1 sign-in, 2 connections", flavor, st)
		}
		// A reconnect asks the source again (it refreshes when near expiry).
		c, err = transport.Dial(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if ts.gets != 2 || ts.refreshes != 1 {
			t.Errorf("reconnect: AccessToken %d, Refresh %d; want 2 and 1", ts.gets, ts.refreshes)
		}
	}
}

func TestRefusedTokenAfterRefreshIsAnAuthError(t *testing.T) {
	s := start(t, smtpsrv.Options{Flavor: smtpsrv.Gmail, Security: smtpsrv.ImplicitTLS})
	ts := &tokens{current: "ya29.bad", fresh: "ya29.still-bad"}
	cfg := config(s, account.SecurityTLS, account.AuthXOAuth2)
	cfg.Tokens = ts
	_, err := transport.Dial(context.Background(), cfg)
	if !transport.IsAuthFailure(err) || transport.IsTemporary(err) {
		t.Fatalf("err = %v, want an auth failure", err)
	}
	if ts.refreshes != 1 {
		t.Errorf("refreshed %d times, want exactly once", ts.refreshes)
	}
	if strings.Contains(err.Error(), "ya29.") {
		t.Errorf("error shows the token: %v", err)
	}
}

func TestTLSChecks(t *testing.T) {
	s := start(t, smtpsrv.Options{Security: smtpsrv.ImplicitTLS, RequireClientCert: true})
	dir := t.TempDir()
	caFile, err := s.WriteCAFile(dir)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile, err := s.IssueClientCert(dir, "taro")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config(s, account.SecurityTLS, account.AuthPlain)
	cfg.RootCAs = nil
	cfg.CAFile = caFile // the extra CA file, added to the system pool

	// Without the client certificate the server refuses the handshake.
	if c, err := transport.Dial(context.Background(), cfg); err == nil {
		_, err = c.Send(context.Background(), user, []string{"x@example.org"}, build(t, "x"))
		c.Close()
		if err == nil {
			t.Fatal("sent without the required client certificate")
		}
	}
	cfg.ClientCert, cfg.ClientKey = certFile, keyFile
	c, err := transport.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("with client certificate: %v", err)
	}
	if _, err := c.Send(context.Background(), user, []string{"x@example.org"}, build(t, "x")); err != nil {
		t.Fatal(err)
	}
	c.Close()

	// The server name is checked: a certificate for 127.0.0.1/localhost
	// does not do for smtp.example.com.
	s2 := start(t, smtpsrv.Options{Security: smtpsrv.ImplicitTLS})
	cfg = config(s2, account.SecurityTLS, account.AuthPlain)
	cfg.Host = "smtp.example.com"
	addr := s2.Addr()
	cfg.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	_, err = transport.Dial(context.Background(), cfg)
	var te *transport.Error
	if !errors.As(err, &te) || te.Temporary() || !strings.Contains(te.Error(), "certificate") {
		t.Fatalf("wrong name: err = %v, want a permanent certificate error", err)
	}
	// And an unknown CA is refused.
	cfg = config(s2, account.SecurityTLS, account.AuthPlain)
	cfg.RootCAs = s.CertPool() // another server's CA
	if _, err := transport.Dial(context.Background(), cfg); err == nil || transport.IsTemporary(err) {
		t.Fatalf("unknown CA: err = %v", err)
	}
}

func TestConnectionSurvivesARefusedRecipient(t *testing.T) {
	s := start(t, smtpsrv.Options{})
	c, err := transport.Dial(context.Background(), config(s, account.SecurityStartTLS, account.AuthPlain))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s.SetFault(smtpsrv.StageRcpt, 550, "5.1.1", "The email account that you tried to reach does not exist.")
	_, err = c.Send(context.Background(), user, []string{"nobody@example.org"}, build(t, "x"))
	var te *transport.Error
	if !errors.As(err, &te) || !te.Permanent() || te.Recipient != "nobody@example.org" || te.Enhanced != "5.1.1" {
		t.Fatalf("err = %v", err)
	}
	s.SetFault(smtpsrv.StageRcpt, 0, "", "")
	if _, err := c.Send(context.Background(), user, []string{"x@example.org"}, build(t, "y")); err != nil {
		t.Fatalf("next message on the same connection (after RSET): %v", err)
	}
	if s.Accepted() != 1 || s.Stats().Connections != 1 {
		t.Errorf("accepted %d on %d connections", s.Accepted(), s.Stats().Connections)
	}
}

func TestUnofferedMechanismIsNamed(t *testing.T) {
	s := start(t, smtpsrv.Options{Mechanisms: []string{"PLAIN", "LOGIN"}}) // like Mailpit: no XOAUTH2
	cfg := config(s, account.SecurityStartTLS, account.AuthXOAuth2)
	ts := &tokens{current: goodTok, fresh: goodTok}
	cfg.Tokens = ts
	_, err := transport.Dial(context.Background(), cfg)
	if ts.refreshes != 0 {
		t.Errorf("refreshed the token for a mechanism the server lacks")
	}
	if !transport.IsAuthFailure(err) || !strings.Contains(err.Error(), "does not offer AUTH XOAUTH2 (it offers: PLAIN LOGIN)") {
		t.Fatalf("err = %v", err)
	}
	if st := s.Stats(); st.AuthFailed != 0 {
		t.Errorf("an AUTH was tried: %+v", st)
	}
}

// A server that accepts the connection and then says nothing: cancelling
// the context ends the wait (instead of the 60-second command timeout).
func TestCancelInterruptsASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		close(accepted)
		io.Copy(io.Discard, c) // never answers
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := transport.Dial(ctx, transport.Config{Host: "127.0.0.1", Port: port, Security: account.SecurityStartTLS, Auth: account.AuthNone})
		done <- err
	}()
	<-accepted
	cancel()
	if err := <-done; err == nil || !transport.IsTemporary(err) {
		t.Fatalf("err = %v, want a temporary error after cancel", err)
	}
}
