package peertest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

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
	tc := peerConfig(t, p.Submission, account.SecurityStartTLS, account.AuthXOAuth2)
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
