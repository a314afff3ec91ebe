package smtpsrv

import (
	"crypto/tls"
	"encoding/base64"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"
)

func dialText(t *testing.T, s *Server) *textproto.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	tc := textproto.NewConn(c)
	t.Cleanup(func() { tc.Close() })
	if _, _, err := tc.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	return tc
}

func cmd(t *testing.T, tc *textproto.Conn, line string) (int, string) {
	t.Helper()
	if err := tc.PrintfLine("%s", line); err != nil {
		t.Fatal(err)
	}
	code, msg, _ := tc.ReadResponse(0)
	return code, msg
}

// Before STARTTLS the server neither offers nor accepts AUTH, like Gmail
// and Microsoft on 587; it does offer STARTTLS and PIPELINING.
func TestNoAuthBeforeSTARTTLS(t *testing.T) {
	s, err := Start(Options{Passwords: map[string]string{"u@example.com": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tc := dialText(t, s)
	code, ehlo := cmd(t, tc, "EHLO client.example")
	if code != 250 || !strings.Contains(ehlo, "STARTTLS") || !strings.Contains(ehlo, "PIPELINING") || strings.Contains(ehlo, "AUTH") {
		t.Fatalf("EHLO before TLS: %d %q", code, ehlo)
	}
	ir := base64.StdEncoding.EncodeToString([]byte("\x00u@example.com\x00pw"))
	if code, msg := cmd(t, tc, "AUTH PLAIN "+ir); code < 500 {
		t.Fatalf("AUTH before STARTTLS: %d %s", code, msg)
	}
	if s.Stats().AuthOK["PLAIN"] != 0 {
		t.Fatal("authenticated in the clear")
	}
	if code, _ := cmd(t, tc, "MAIL FROM:<u@example.com>"); code != 530 {
		t.Fatalf("MAIL without AUTH: %d, want 530", code)
	}

	if code, _ := cmd(t, tc, "STARTTLS"); code != 220 {
		t.Fatalf("STARTTLS: %d", code)
	}
}

func TestThrottlePerMinuteResetsNextMinute(t *testing.T) {
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	s, err := Start(Options{Flavor: Microsoft, PerMinute: 2, Now: func() time.Time { return now }, AllowAnonymous: true, Security: NoTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tc := dialText(t, s)
	cmd(t, tc, "EHLO x")
	for i, want := range []int{250, 250, 451} {
		if code, msg := cmd(t, tc, "MAIL FROM:<a@example.com>"); code != want {
			t.Fatalf("MAIL %d: %d %s, want %d", i, code, msg, want)
		} else if code == 451 && !strings.HasPrefix(msg, "4.7.500") {
			t.Fatalf("throttle reply %q", msg)
		}
		cmd(t, tc, "RSET")
	}
	now = now.Add(time.Minute)
	if code, _ := cmd(t, tc, "MAIL FROM:<a@example.com>"); code != 250 {
		t.Fatalf("next minute: %d", code)
	}
}

func TestImplicitTLSCertificateNamesLoopback(t *testing.T) {
	s, err := Start(Options{Security: ImplicitTLS})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{"127.0.0.1", "localhost"} {
		c, err := tls.Dial("tcp", s.Addr(), &tls.Config{RootCAs: s.CertPool(), ServerName: name, MinVersion: tls.VersionTLS12})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c.Close()
	}
	if !strings.Contains(string(s.CAPEM()), "BEGIN CERTIFICATE") {
		t.Fatal("CAPEM is not PEM")
	}
}
