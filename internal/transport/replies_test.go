package transport_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// Each reply people meet, produced by the stand-in over a real socket,
// must come back with its class and the sentence telling the user what to do.
func TestRepliesPeopleMeet(t *testing.T) {
	type want struct {
		code      int
		enhanced  string
		class     transport.Class
		throttled bool
		advice    string // part of the sentence
	}
	cases := []struct {
		name  string
		opts  smtpsrv.Options
		setup func(*smtpsrv.Server, *transport.Config)
		sends int // messages to send before the one that must fail
		want  want
	}{
		{"Microsoft SMTP AUTH disabled", smtpsrv.Options{Flavor: smtpsrv.Microsoft},
			func(s *smtpsrv.Server, _ *transport.Config) { s.SetSMTPAuthDisabled(true) }, 0,
			want{535, "5.7.139", transport.Auth, false, "an administrator must enable authenticated SMTP"}},
		{"Microsoft token refused", smtpsrv.Options{Flavor: smtpsrv.Microsoft},
			func(_ *smtpsrv.Server, c *transport.Config) {
				c.Tokens = &tokens{current: "graph-token", fresh: "graph-token"}
			}, 0,
			want{535, "5.7.3", transport.Auth, false, "https://outlook.office.com/SMTP.Send"}},
		{"Microsoft client not authenticated", smtpsrv.Options{Flavor: smtpsrv.Microsoft},
			func(_ *smtpsrv.Server, c *transport.Config) { c.Auth = account.AuthNone }, 0,
			want{530, "5.7.57", transport.Auth, false, "authenticate before sending"}},
		{"Microsoft basic auth refused", smtpsrv.Options{Flavor: smtpsrv.Microsoft},
			func(s *smtpsrv.Server, c *transport.Config) {
				c.Auth = account.AuthPlain
				s.SetFault(smtpsrv.StageAuth, 550, "5.7.30", "Basic authentication is not supported for Client Submission.")
			}, 0,
			want{550, "5.7.30", transport.Auth, false, "switch the account to OAuth"}},
		{"Microsoft daily quota", smtpsrv.Options{Flavor: smtpsrv.Microsoft},
			func(s *smtpsrv.Server, _ *transport.Config) {
				s.SetFault(smtpsrv.StageData, 554, "5.2.0", "STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception")
			}, 0,
			want{554, "5.2.0", transport.Temporary, true, "daily sending limit"}},
		{"Gmail 334 JSON then 535 5.7.8", smtpsrv.Options{Flavor: smtpsrv.Gmail},
			func(_ *smtpsrv.Server, c *transport.Config) { c.Tokens = &tokens{current: "revoked", fresh: "revoked"} }, 0,
			want{535, "5.7.8", transport.Auth, false, "Sign in again"}},
		{"Gmail throttling 421 4.7.0", smtpsrv.Options{Flavor: smtpsrv.Gmail, PerMinute: 2}, nil, 2,
			want{421, "4.7.0", transport.Temporary, true, "throttling"}},
		{"Microsoft throttling 451 4.7.500", smtpsrv.Options{Flavor: smtpsrv.Microsoft, PerMinute: 1}, nil, 1,
			want{451, "4.7.500", transport.Temporary, true, "throttling"}},
		{"too many recipients", smtpsrv.Options{},
			func(s *smtpsrv.Server, _ *transport.Config) {
				s.SetFault(smtpsrv.StageRcpt, 452, "4.5.3", "Your message has too many recipients.")
			}, 0,
			want{452, "4.5.3", transport.Temporary, false, "fewer recipients per message"}},
		{"OAuth server down (Dovecot)", smtpsrv.Options{},
			func(s *smtpsrv.Server, _ *transport.Config) {
				s.SetFault(smtpsrv.StageAuth, 454, "4.7.0", "Temporary authentication failure")
			}, 0,
			want{454, "4.7.0", transport.Temporary, false, "try again later"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			minute := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
			c.opts.Now = func() time.Time { return minute }
			s := start(t, c.opts)
			cfg := config(s, account.SecurityStartTLS, account.AuthXOAuth2)
			if c.setup != nil {
				c.setup(s, &cfg)
			}
			err := sendN(cfg, c.sends+1)
			var te *transport.Error
			if !errors.As(err, &te) {
				t.Fatalf("err = %v, want *transport.Error", err)
			}
			if te.Code != c.want.code || te.Enhanced != c.want.enhanced {
				t.Errorf("reply %d %s, want %d %s", te.Code, te.Enhanced, c.want.code, c.want.enhanced)
			}
			if te.Class != c.want.class || te.Throttled() != c.want.throttled {
				t.Errorf("class %s throttled %v, want %s %v", te.Class, te.Throttled(), c.want.class, c.want.throttled)
			}
			if te.Temporary() != (c.want.class == transport.Temporary) || te.AuthFailure() != (c.want.class == transport.Auth) {
				t.Errorf("Temporary()=%v AuthFailure()=%v for class %s", te.Temporary(), te.AuthFailure(), te.Class)
			}
			if !strings.Contains(te.Error(), c.want.advice) || !strings.Contains(te.Error(), te.ReplyLine()) {
				t.Errorf("message %q lacks %q or the server's reply", te.Error(), c.want.advice)
			}
			if c.name == "Gmail 334 JSON then 535 5.7.8" && !strings.Contains(te.Challenge, `"status":"401"`) {
				t.Errorf("challenge %q not kept", te.Challenge)
			}
			if s.Accepted() != c.sends {
				t.Errorf("accepted %d, want %d", s.Accepted(), c.sends)
			}
		})
	}
}

func sendN(cfg transport.Config, n int) error {
	ctx := context.Background()
	c, err := transport.Dial(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()
	for range n {
		if _, err := c.Send(ctx, user, []string{"x@example.org"}, []byte("Subject: x\r\n\r\nx\r\n")); err != nil {
			return err
		}
	}
	return nil
}

// Classification of replies that do not need a server to produce.
func TestNetworkFailureIsTemporary(t *testing.T) {
	cfg := transport.Config{Host: "127.0.0.1", Port: 1, Security: account.SecurityNone, Auth: account.AuthNone}
	_, err := transport.Dial(context.Background(), cfg)
	if !transport.IsTemporary(err) || transport.IsAuthFailure(err) {
		t.Fatalf("connection refused: err = %v, want temporary", err)
	}
}

// Replies from servers other than Google and Microsoft (Dovecot's wording)
// get provider-neutral sentences.
func TestClassifyOtherServers(t *testing.T) {
	cases := []struct {
		op, text, enh string
		code          int
		challenge     string
		class         transport.Class
		advice, not   string
	}{
		{"AUTH", "Authentication failed.", "5.7.8", 535, `{"status":"401","schemes":"bearer","scope":"mail"}`, transport.Auth, "sign in again", "Google"},
		{"AUTH", "Authentication failed.", "5.7.8", 535, "", transport.Auth, "check the user name and password", "Google"},
		{"AUTH", "Authentication unsuccessful, basic authentication is disabled. [X.outlook.com]", "5.7.139", 535, "", transport.Auth, "switch the account to OAuth", "administrator"},
		{"MAIL", "Authentication required.", "5.7.0", 530, "", transport.Auth, "sign in (over TLS) before sending", ""},
		{"RCPT", "No such user", "5.1.1", 550, "", transport.Permanent, "refused this recipient", ""},
		{"DATA", "Message size exceeds fixed limit", "5.3.4", 552, "", transport.Permanent, "attachments smaller", ""},
		{"MAIL", "Service not available, closing transmission channel", "", 421, "", transport.Temporary, "reconnects", ""},
	}
	for _, c := range cases {
		e := transport.NewReplyError("127.0.0.1:25", c.op, c.code, c.enh, c.text, c.challenge)
		if e.Class != c.class || !strings.Contains(e.Error(), c.advice) || (c.not != "" && strings.Contains(e.Error(), c.not)) {
			t.Errorf("%d %s %q: class %s, message %q", c.code, c.enh, c.text, e.Class, e.Error())
		}
	}
}

// Postfix with smtpd_tls_req_ccert ends the session with a 421 when no
// client certificate came: by its code temporary, but only a setting helps.
func TestMissingClientCertificateIsASettingsError(t *testing.T) {
	e := transport.NewReplyError("127.0.0.1:24590", "EHLO", 421, "4.7.1", "mail.example.org Error: No client certificate presented", "")
	if e.Temporary() || e.Throttled() {
		t.Fatalf("class %s throttled %v: bluemoon would retry forever", e.Class, e.Throttled())
	}
	if !strings.Contains(e.Error(), "--client-cert") {
		t.Fatalf("message %q does not say how to give a client certificate", e.Error())
	}
}

// Every advice has a reason code, so a face can say it in its own words.
func TestEveryAdviceHasAReason(t *testing.T) {
	for _, r := range []struct {
		op       string
		code     int
		enh, txt string
	}{
		{"AUTH", 535, "5.7.139", "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant"},
		{"AUTH", 535, "5.7.3", "Authentication unsuccessful"},
		{"MAIL", 530, "5.7.57", "Client not authenticated"},
		{"AUTH", 535, "5.7.8", "Username and Password not accepted. gsmtp"},
		{"DATA", 554, "5.2.0", "STOREDRV.Submission.Exception:SubmissionQuotaExceededException"},
		{"MAIL", 421, "4.7.0", "Try again later"},
		{"RCPT", 550, "5.1.1", "No such user"},
		{"AUTH", 534, "5.7.14", "Please log in with your web browser and then try again. gsmtp"},
		{"MAIL", 550, "5.4.5", "Daily user sending limit exceeded. gsmtp"},
	} {
		e := transport.NewReplyError("smtp.example:587", r.op, r.code, r.enh, r.txt, "")
		if e.Advice == "" || e.Reason == "" {
			t.Errorf("%d %s %q: advice %q, reason %q: every advice needs a reason code", r.code, r.enh, r.txt, e.Advice, e.Reason)
		}
	}
}

// Microsoft answers a wrong password as it answers a refused token (535
// 5.7.3): for a password account the sentence must be about the user name
// and password, never a token, its scope or a sign-in it does not have.
func TestMicrosoftRefusingAPasswordSaysPassword(t *testing.T) {
	for _, auth := range []account.AuthMethod{account.AuthPlain, account.AuthLogin} {
		s := start(t, smtpsrv.Options{Flavor: smtpsrv.Microsoft})
		cfg := config(s, account.SecurityStartTLS, auth)
		cfg.Password = "not-the-password"
		err := sendN(cfg, 1)
		var te *transport.Error
		if !errors.As(err, &te) {
			t.Fatalf("%s: err = %v, want *transport.Error", auth, err)
		}
		if te.Code != 535 || te.Enhanced != "5.7.3" || !te.AuthFailure() {
			t.Errorf("%s: reply %d %s class %s, want 535 5.7.3 authentication", auth, te.Code, te.Enhanced, te.Class)
		}
		msg := te.Error()
		if !strings.Contains(msg, "user name and password") || strings.Contains(strings.ToLower(msg), "token") ||
			te.Reason != "credentials_refused" {
			t.Errorf("%s: reason %q, message %q: want the password named, no token", auth, te.Reason, msg)
		}
	}
}
