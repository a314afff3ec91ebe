package peertest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

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
