package peertest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"io"
	"mime"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

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
	body, _ := io.ReadAll(pm.Body)
	if len(body) == 0 {
		t.Error("relayed message has no body")
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

// The baseline: the peers themselves work, checked with the go-smtp client and an XOAUTH2
// written here, not bluemoon's transport. If this fails, the set-up is broken, not bluemoon.
func TestPeersRawXOAUTH2(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)
	user := "raw-" + uniqueID() + "@bluemoon.test"
	tok := rawSignIn(t, rawConfig(d, clientPublic), user)

	pem, err := os.ReadFile(p.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := smtp.DialStartTLS(p.Submission, &tls.Config{ServerName: "127.0.0.1", RootCAs: pool})
	if err != nil {
		t.Fatalf("STARTTLS to Dovecot: %v", err)
	}
	defer c.Close()
	if ok, mechs := c.Extension("AUTH"); !ok || !strings.Contains(mechs, "XOAUTH2") {
		t.Fatalf("Dovecot offers AUTH %q after STARTTLS, want XOAUTH2 among them", mechs)
	}
	if err := c.Auth(&rawXOAuth2{user: user, token: tok.AccessToken}); err != nil {
		t.Fatalf("AUTH XOAUTH2 with a fresh token: %v", err)
	}
	m, raw := testMessage(t, user, "rcpt@bluemoon.test", "utf-8")
	if err := c.SendMail(user, []string{"rcpt@bluemoon.test"}, strings.NewReader(string(raw))); err != nil {
		t.Fatalf("send: %v", err)
	}
	sink.waitMessageID(t, "<"+m.MessageID+">")

	// A wrong token: Dovecot's 334 JSON challenge, then 535 5.7.8 after the empty answer.
	c2, err := smtp.DialStartTLS(p.Submission, &tls.Config{ServerName: "127.0.0.1", RootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	x := &rawXOAuth2{user: user, token: "not-a-token"}
	err = c2.Auth(x)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 535 {
		t.Fatalf("AUTH with a wrong token: %v, want 535", err)
	}
	if string(x.challenge) != dovecotChallenge {
		t.Errorf("challenge %q, want %q", x.challenge, dovecotChallenge)
	}
}

// rawXOAuth2 is a minimal XOAUTH2 client for the baseline test.
type rawXOAuth2 struct {
	user, token string
	challenge   []byte
}

func (a *rawXOAuth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + a.user + "\x01auth=Bearer " + a.token + "\x01\x01"), nil
}

func (a *rawXOAuth2) Next(challenge []byte) ([]byte, error) {
	a.challenge = challenge
	return []byte{}, nil
}

// bluemoon's transport signs in with XOAUTH2 over STARTTLS and implicit TLS, and sends several
// messages on one connection, through a real server that checks each token with the OAuth server.
func TestTransportXOAUTH2(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)
	for _, s := range securities(p) {
		t.Run(s.name, func(t *testing.T) {
			user := "xoauth2-" + s.name + "-" + uniqueID() + "@bluemoon.test"
			cfg := rawConfig(d, clientPublic)
			tokens := &rawTokens{cfg: cfg, tok: rawSignIn(t, cfg, user)}
			tc := peerConfig(t, s.addr, s.sec, account.AuthXOAuth2)
			tc.Username, tc.Tokens = user, tokens
			c, err := dial(t, tc)
			if err != nil {
				t.Fatalf("dial Dovecot with XOAUTH2: %v", err)
			}
			sendAndCheck(t, c, user, "first@bluemoon.test", "utf-8")
			sendAndCheck(t, c, user, "second@bluemoon.test", "iso-2022-jp")
			if c.Sent != 2 {
				t.Errorf("connection counted %d messages, want 2", c.Sent)
			}
			if tokens.Refreshs != 0 {
				t.Errorf("a fresh token was refreshed %d times before use", tokens.Refreshs)
			}
		})
	}
}

// A token the OAuth server never issued: Dovecot answers with the 334 JSON challenge, then
// 535 5.7.8; the transport refreshes once, then reports an authentication failure that keeps the
// challenge and never shows the token.
func TestTransportBadToken(t *testing.T) {
	p := needPeers(t)
	for _, s := range securities(p) {
		t.Run(s.name, func(t *testing.T) {
			bad := "bogus-" + uniqueID()
			tokens := &fixedTokens{token: bad}
			tc := peerConfig(t, s.addr, s.sec, account.AuthXOAuth2)
			tc.Username, tc.Tokens = "nobody@bluemoon.test", tokens
			_, err := dial(t, tc)
			te := authError(t, err)
			t.Logf("what the user reads: %v", err)
			if te.Challenge != dovecotChallenge {
				t.Errorf("kept challenge %q, want %q", te.Challenge, dovecotChallenge)
			}
			if tokens.Refreshs != 1 {
				t.Errorf("token refreshed %d times after the refusal, want exactly 1", tokens.Refreshs)
			}
			if strings.Contains(err.Error(), bad) {
				t.Errorf("error shows the token: %v", err)
			}
			if !strings.Contains(strings.ToLower(err.Error()), "sign in again") {
				t.Errorf("error does not tell the user to sign in again: %v", err)
			}
		})
	}
}

// A real token used for another mailbox than the one that signed in: Dovecot compares the
// introspected subject with the XOAUTH2 user and refuses.
func TestTransportTokenOfAnotherUser(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)
	cfg := rawConfig(d, clientPublic)
	tok := rawSignIn(t, cfg, "owner-"+uniqueID()+"@bluemoon.test")
	tc := peerConfig(t, p.Submission, account.SecurityStartTLS, account.AuthXOAuth2)
	tc.Username, tc.Tokens = "someone-else@bluemoon.test", &fixedTokens{token: tok.AccessToken}
	_, err := dial(t, tc)
	authError(t, err)
}

// A revoked grant: revoking one token at oidc-provider revokes the whole grant, so Dovecot
// refuses the access token and the transport's refresh is refused too (invalid_grant): the user
// must sign in again, and the error says both.
func TestTransportRevokedToken(t *testing.T) {
	p := needPeers(t)
	d := discover(t, p.Issuer)
	user := "revoked-" + uniqueID() + "@bluemoon.test"
	cfg := rawConfig(d, clientPublic)
	tok := rawSignIn(t, cfg, user)
	revoke(t, d, clientPublic, tok.AccessToken, "access_token")

	tokens := &rawTokens{cfg: cfg, tok: tok}
	tc := peerConfig(t, p.Submission, account.SecurityStartTLS, account.AuthXOAuth2)
	tc.Username, tc.Tokens = user, tokens
	_, err := dial(t, tc)
	authError(t, err)
	if !isInvalidGrant(err) {
		t.Errorf("refresh after revocation: want invalid_grant in the error chain, got %v", err)
	}
	if tokens.Refreshs != 1 {
		t.Errorf("refreshed %d times, want 1", tokens.Refreshs)
	}
}

// An access token that expired at the OAuth server: Dovecot refuses it, the transport refreshes
// (rotating the refresh token) and signs in on a new connection with the new token.
func TestTransportExpiredTokenRefreshedAtReconnect(t *testing.T) {
	p := needPeers(t)
	t.Parallel() // mostly waiting for the token to expire
	d := discover(t, p.Issuer)
	user := "expired-" + uniqueID() + "@bluemoon.test"
	cfg := rawConfig(d, clientShort)
	tok := rawSignIn(t, cfg, user)
	if ttl := time.Until(tok.Expiry); ttl > time.Minute {
		t.Fatalf("client %s got an access token for %v; the short TTL is not configured", clientShort, ttl)
	}
	// Wait until the server itself considers the token expired (its TTL is a few seconds).
	time.Sleep(time.Until(tok.Expiry) + 1500*time.Millisecond)

	tokens := &rawTokens{cfg: cfg, tok: tok}
	for _, s := range securities(p)[:1] {
		tc := peerConfig(t, s.addr, s.sec, account.AuthXOAuth2)
		tc.Username, tc.Tokens = user, tokens
		c, err := dial(t, tc)
		if err != nil {
			t.Fatalf("dial with an expired token: %v", err)
		}
		if tokens.Refreshs != 1 || len(tokens.Issued) != 2 || tokens.Issued[0] == tokens.Issued[1] {
			t.Fatalf("want the expired token refused, one refresh, then a new token (refreshes %d, tokens handed out %d)",
				tokens.Refreshs, len(tokens.Issued))
		}
		if tokens.tok.RefreshToken == tok.RefreshToken {
			t.Error("the refresh did not rotate the refresh token")
		}
		sendAndCheck(t, c, user, "after-refresh@bluemoon.test", "utf-8")
	}
}

// The OAuth server does not answer Dovecot's introspection: Dovecot says 454 4.7.0, and the
// transport reports a temporary failure (try again later), not a refused sign-in, and does not
// spend a refresh on a token nobody found fault with.
func TestTransportOAuthServerDown(t *testing.T) {
	p := needPeers(t)
	tokens := &fixedTokens{token: "token-" + uniqueID()}
	tc := peerConfig(t, p.Submission, account.SecurityStartTLS, account.AuthXOAuth2)
	tc.Username, tc.Tokens = "someone@"+p.DownDomain, tokens
	_, err := dial(t, tc)
	if err == nil {
		t.Fatal("Dovecot accepted a token it could not check")
	}
	t.Logf("what the user reads: %v", err)
	var te *transport.Error
	if !errors.As(err, &te) || te.Code != 454 || te.Enhanced != "4.7.0" {
		t.Fatalf("want Dovecot's 454 4.7.0, got %v", err)
	}
	if !transport.IsTemporary(err) || transport.IsAuthFailure(err) {
		t.Errorf("454 classed temporary=%v auth=%v, want a temporary failure", transport.IsTemporary(err), transport.IsAuthFailure(err))
	}
	if tokens.Refreshs != 0 {
		t.Errorf("refreshed the token %d times for a server-side outage", tokens.Refreshs)
	}
}

// A bulk send meets refused recipients: the server behind Dovecot refuses one permanently and
// defers another; Dovecot passes the replies on, the transport classes them (permanent with the
// recipient named; temporary), resets, and the next message goes out on the same connection.
func TestTransportRecipientRefusedThenNextMessage(t *testing.T) {
	p := needPeers(t)
	tc := peerConfig(t, p.Submission, account.SecurityStartTLS, account.AuthPlain)
	tc.Username, tc.Password = p.PlainUser, p.PlainPass
	c, err := dial(t, tc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, rc := range []struct {
		to        string
		code      int
		temporary bool
	}{
		{rejectPrefix + "nobody@bluemoon.test", 550, false},
		{deferPrefix + "busy@bluemoon.test", 450, true},
	} {
		_, raw := testMessage(t, p.PlainUser, rc.to, "utf-8")
		_, err := c.Send(ctx, p.PlainUser, []string{rc.to}, raw)
		t.Logf("what the user reads: %v", err)
		var te *transport.Error
		if !errors.As(err, &te) || te.Code != rc.code || te.Op != "RCPT" || te.Recipient != rc.to {
			t.Fatalf("send to %s: %v, want %d at RCPT for that recipient", rc.to, err, rc.code)
		}
		if te.Temporary() != rc.temporary || te.AuthFailure() {
			t.Errorf("%d classed temporary=%v auth=%v, want temporary=%v", rc.code, te.Temporary(), te.AuthFailure(), rc.temporary)
		}
		if c.Broken() {
			t.Fatalf("the connection is marked broken after a refused recipient")
		}
	}
	sendAndCheck(t, c, p.PlainUser, "after-refusals@bluemoon.test", "utf-8")
}

// PLAIN and LOGIN with the static user of the passwd-file passdb, over both securities; a wrong
// password is an authentication failure without a challenge, and the password is never shown.
func TestTransportPassword(t *testing.T) {
	p := needPeers(t)
	for _, s := range securities(p) {
		for _, auth := range []account.AuthMethod{account.AuthPlain, account.AuthLogin} {
			t.Run(s.name+"/"+string(auth), func(t *testing.T) {
				tc := peerConfig(t, s.addr, s.sec, auth)
				tc.Username, tc.Password = p.PlainUser, p.PlainPass
				c, err := dial(t, tc)
				if err != nil {
					t.Fatalf("dial with %s: %v", auth, err)
				}
				sendAndCheck(t, c, p.PlainUser, "password-rcpt@bluemoon.test", "utf-8")

				wrong := "wrong-" + uniqueID()
				tc.Password = wrong
				_, err = dial(t, tc)
				te := authError(t, err)
				if te.Challenge != "" {
					t.Errorf("password failure carries a challenge %q", te.Challenge)
				}
				if strings.Contains(err.Error(), wrong) {
					t.Errorf("error shows the password: %v", err)
				}
			})
		}
	}
}

// Without the test CA the transport refuses Dovecot's certificate before saying anything else,
// and says how to fix it.
func TestTransportUntrustedCertificate(t *testing.T) {
	p := needPeers(t)
	for _, s := range securities(p) {
		t.Run(s.name, func(t *testing.T) {
			tc := peerConfig(t, s.addr, s.sec, account.AuthPlain)
			tc.CAFile = ""
			tc.Username, tc.Password = p.PlainUser, p.PlainPass
			_, err := dial(t, tc)
			if err == nil {
				t.Fatal("connected to a server whose certificate no trusted CA signed")
			}
			var te *transport.Error
			if !errors.As(err, &te) || te.Temporary() || !strings.Contains(te.Advice, "CA file") {
				t.Fatalf("want a permanent certificate error pointing at the CA file setting, got %v", err)
			}
		})
	}
}
