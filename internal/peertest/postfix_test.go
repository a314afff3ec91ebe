package peertest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// Postfix with smtpd_tls_auth_only offers AUTH only once STARTTLS is done; the listener without
// TLS offers it in the clear. Checked with the plain go-smtp client, so that the transport tests
// below cannot pass against a server that behaves otherwise.
func TestPeersPostfixAuthOnlyAfterSTARTTLS(t *testing.T) {
	p := needPeers(t)
	c, err := smtp.Dial(p.Postfix)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.bluemoon.test"); err != nil {
		t.Fatal(err)
	}
	if ok, mechs := c.Extension("AUTH"); ok {
		t.Fatalf("Postfix offers AUTH %q before STARTTLS", mechs)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("Postfix does not offer STARTTLS")
	}
	secured, err := smtp.DialStartTLS(p.Postfix, &tls.Config{ServerName: "127.0.0.1", RootCAs: testCAPool(t, p)})
	if err != nil {
		t.Fatal(err)
	}
	defer secured.Close()
	if ok, mechs := secured.Extension("AUTH"); !ok || !strings.Contains(mechs, "XOAUTH2") {
		t.Fatalf("after STARTTLS Postfix offers AUTH %q, want XOAUTH2 among them", mechs)
	}

	open, err := smtp.Dial(p.PostfixOpen)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := open.Hello("client.bluemoon.test"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := open.Extension("STARTTLS"); ok {
		t.Fatal("the clear listener offers STARTTLS; the no-credentials test needs one that does not")
	}
	if ok, mechs := open.Extension("AUTH"); !ok || !strings.Contains(mechs, "PLAIN") {
		t.Fatalf("the clear listener offers AUTH %q; the no-credentials test needs one that takes PLAIN in the clear", mechs)
	}
}

func testCAPool(t *testing.T, p *peers) *x509.CertPool {
	t.Helper()
	pem, err := os.ReadFile(p.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", p.CAFile)
	}
	return pool
}

// bluemoon's transport through Postfix: STARTTLS first, then XOAUTH2 (checked by Dovecot's auth
// service and oidc-provider) or PLAIN, and the mail comes out at the sink behind Postfix.
func TestTransportPostfix(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)

	t.Run("xoauth2", func(t *testing.T) {
		user := "postfix-" + uniqueID() + "@bluemoon.test"
		cfg := rawConfig(d, clientPublic)
		tc := peerConfig(t, p.Postfix, account.SecurityStartTLS, account.AuthXOAuth2)
		tc.Username, tc.Tokens = user, &rawTokens{cfg: cfg, tok: rawSignIn(t, cfg, user)}
		c, err := dial(t, tc)
		if err != nil {
			t.Fatalf("dial Postfix with XOAUTH2: %v", err)
		}
		sendAndCheck(t, c, user, "via-postfix@bluemoon.test", "utf-8")
	})
	t.Run("plain", func(t *testing.T) {
		tc := peerConfig(t, p.Postfix, account.SecurityStartTLS, account.AuthPlain)
		tc.Username, tc.Password = p.PlainUser, p.PlainPass
		c, err := dial(t, tc)
		if err != nil {
			t.Fatalf("dial Postfix with PLAIN: %v", err)
		}
		sendAndCheck(t, c, p.PlainUser, "via-postfix-plain@bluemoon.test", "iso-2022-jp")
	})
	t.Run("bad token", func(t *testing.T) {
		bad := "bogus-" + uniqueID()
		tc := peerConfig(t, p.Postfix, account.SecurityStartTLS, account.AuthXOAuth2)
		tc.Username, tc.Tokens = "nobody@bluemoon.test", &fixedTokens{token: bad}
		_, err := dial(t, tc)
		te := authError(t, err)
		t.Logf("what the user reads: %v", err)
		if te.Challenge != dovecotChallenge {
			t.Errorf("kept challenge %q, want Dovecot's %q passed on by Postfix", te.Challenge, dovecotChallenge)
		}
		if strings.Contains(err.Error(), bad) {
			t.Errorf("error shows the token: %v", err)
		}
	})
}

// recorder keeps every byte the client writes on its connections.
type recorder struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (r *recorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &recordedConn{Conn: c, r: r}, nil
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out.String()
}

type recordedConn struct {
	net.Conn
	r *recorder
}

func (c *recordedConn) Write(b []byte) (int, error) {
	c.r.mu.Lock()
	c.r.out.Write(b)
	c.r.mu.Unlock()
	return c.Conn.Write(b)
}

// An account set to STARTTLS that meets a real server offering AUTH in the clear but no STARTTLS
// stops before authenticating: the bytes it wrote hold no AUTH, no token and no password.
func TestTransportNoCredentialsWithoutSTARTTLS(t *testing.T) {
	p := needPeers(t)
	token := "token-" + uniqueID()
	for _, auth := range []account.AuthMethod{account.AuthXOAuth2, account.AuthPlain, account.AuthLogin} {
		t.Run(string(auth), func(t *testing.T) {
			rec := &recorder{}
			tc := peerConfig(t, p.PostfixOpen, account.SecurityStartTLS, auth)
			tc.Username, tc.Password, tc.Tokens = p.PlainUser, p.PlainPass, &fixedTokens{token: token}
			tc.DialContext = rec.dial
			_, err := dial(t, tc)
			if err == nil {
				t.Fatal("the transport authenticated over a connection without TLS")
			}
			if !errors.Is(err, transport.ErrNoStartTLS) || transport.IsTemporary(err) {
				t.Errorf("want a permanent 'no STARTTLS' error, got %v", err)
			}
			sent := rec.String()
			if !strings.Contains(sent, "EHLO") {
				t.Fatalf("the transport never talked to the server (wrote %q): the test proves nothing", sent)
			}
			for _, secret := range []string{"AUTH", token, p.PlainPass} {
				if strings.Contains(sent, secret) {
					t.Errorf("the client wrote %q in the clear: %q", secret, sent)
				}
			}
		})
	}
}

// The admin guide's TLS client certificate: Postfix requires one signed by the test CA on this
// listener. With the account's client certificate and key the message goes through; without,
// Postfix ends the session after the TLS handshake and nothing is sent.
func TestTransportClientCertificate(t *testing.T) {
	p := needPeers(t)
	for _, sec := range []account.Security{account.SecurityStartTLS} {
		tc := peerConfig(t, p.PostfixCert, sec, account.AuthPlain)
		tc.Username, tc.Password = p.PlainUser, p.PlainPass
		tc.ClientCert, tc.ClientKey = p.ClientCert, p.ClientKey
		c, err := dial(t, tc)
		if err != nil {
			t.Fatalf("dial with the client certificate: %v", err)
		}
		sendAndCheck(t, c, p.PlainUser, "client-cert@bluemoon.test", "utf-8")

		rec := &recorder{}
		tc.ClientCert, tc.ClientKey, tc.DialContext = "", "", rec.dial
		_, err = dial(t, tc)
		if err == nil {
			t.Fatal("Postfix took a session without the required client certificate")
		}
		t.Logf("what the user reads without the certificate: %v", err)
		// Postfix answers 421 4.7.1; a retry or a new token never helps.
		if transport.IsTemporary(err) || !strings.Contains(err.Error(), "--client-cert") {
			t.Errorf("a missing client certificate must be a settings error naming --client-cert, got: %v", err)
		}
		if strings.Contains(rec.String(), "AUTH") {
			t.Error("credentials went out on a session the server was ending")
		}
	}
}
