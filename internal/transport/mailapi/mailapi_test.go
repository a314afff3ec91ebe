package mailapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/apisrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/signin"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
	"github.com/bluemoon-mail/bluemoon/internal/transport/mailapi"
)

const sender = "sender@contoso.example"

// env is a signed-in account on an OAuth stand-in and an API stand-in of
// the same provider, and the client sending through it.
type env struct {
	auth   *oauthsrv.Server
	api    *apisrv.Server
	st     *secrets.Store
	cfg    provider.Config
	src    *oauth.Source
	client *mailapi.Client
}

func newEnv(t testing.TB, via account.Via, opts apisrv.Options) *env {
	t.Helper()
	t.Setenv(secrets.KeyringEnv, "off")
	a, err := signin.StartAPI(context.Background(), t.TempDir(), via, "a", sender, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	c, err := mailapi.New(a.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &env{auth: a.Auth, api: a.API, st: a.Store, cfg: a.Creds, src: a.Tokens, client: c}
}

func mime(t testing.TB, to string, attachment int) []byte {
	t.Helper()
	m := &message.Message{From: message.Address{Addr: sender}, To: []message.Address{{Name: "受取人", Addr: to}},
		Subject: "ご案内 / notice", Text: "本文です。\nbody\n", Charset: "iso-2022-jp"}
	if attachment > 0 {
		data := make([]byte, attachment)
		rand.Read(data)
		m.Attachments = []message.Attachment{{Filename: "資料.bin", Data: data}}
	}
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func send(e *env, to string, msg []byte) (transport.Reply, error) {
	return e.client.Send(context.Background(), sender, []string{to}, msg)
}

func apiErr(t *testing.T, err error) *mailapi.Error {
	t.Helper()
	var e *mailapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a *mailapi.Error, got %T: %v", err, err)
	}
	return e
}

// The MIME the SMTP path builds reaches the service byte for byte, with
// the service's acceptance as the reply; the Graph token is for Graph,
// the sign-in's own (SMTP.Send) token left as it was.
func TestSendsTheSameMIME(t *testing.T) {
	for _, tc := range []struct {
		via    account.Via
		size   int
		upload string
		reply  string
	}{
		{account.ViaGraph, 0, "mime", "202 Accepted by Microsoft Graph"},
		{account.ViaGraph, 2 << 20, "mime", "202 Accepted by Microsoft Graph"},
		{account.ViaGmailAPI, 0, "raw", "200 OK, sent by the Gmail API (id "},
		{account.ViaGmailAPI, 5 << 20, "media", "200 OK, sent by the Gmail API (id "},
	} {
		t.Run(string(tc.via)+"/"+tc.upload, func(t *testing.T) {
			e := newEnv(t, tc.via, apisrv.Options{})
			msg := mime(t, "to@example.net", tc.size)
			r, err := send(e, "to@example.net", msg)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(r.String(), tc.reply) {
				t.Errorf("reply %q, want %q…", r, tc.reply)
			}
			got := e.api.Messages()
			if len(got) != 1 || !bytes.Equal(got[0].Data, msg) || got[0].Upload != tc.upload || got[0].User != sender {
				t.Fatalf("the service got %d message(s), upload %q, not the bytes sent", len(got), got[0].Upload)
			}
			tok, _ := oauth.LoadToken(e.st, "a")
			if tc.via == account.ViaGraph {
				if _, scopes, _ := e.auth.ValidateAccessToken(tok.AccessToken); strings.Join(scopes, " ") != "https://outlook.office.com/SMTP.Send" {
					t.Errorf("the sign-in's own token has scopes %v, want SMTP.Send only", scopes)
				}
				if len(tok.Resources) != 1 {
					t.Errorf("want one resource token (Graph), got %d", len(tok.Resources))
				}
			}
		})
	}
}

// Each resource gets its own token: the SMTP token is refused by Graph
// (wrong audience, 401), a Graph token without Mail.Send is denied (403),
// and Gmail refuses a token without a sending scope.
func TestTokenAudienceAndScope(t *testing.T) {
	e := newEnv(t, account.ViaGraph, apisrv.Options{})
	smtpSrc := oauth.NewSource(e.st, "a", e.cfg, oauth.SourceOptions{})
	c, err := mailapi.New(transport.Config{Via: account.ViaGraph, APIEndpoint: e.api.URL(), Tokens: smtpSrc})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), sender, []string{"to@example.net"}, mime(t, "to@example.net", 0))
	if ae := apiErr(t, err); !ae.AuthFailure() || ae.SettingsProblem() || ae.Status != 401 || !strings.Contains(ae.Message, "Invalid audience") {
		t.Fatalf("an SMTP.Send token on Graph: %v", err)
	}

	denied := newEnv(t, account.ViaGraph, apisrv.Options{CheckToken: func(string) (string, []string, error) {
		return sender, []string{"https://graph.microsoft.com/User.Read"}, nil
	}})
	_, err = send(denied, "to@example.net", mime(t, "to@example.net", 0))
	if ae := apiErr(t, err); !ae.SettingsProblem() || ae.Code != "ErrorAccessDenied" || !strings.Contains(err.Error(), "Mail.Send") {
		t.Fatalf("a Graph token without Mail.Send: %v", err)
	}

	g := newEnv(t, account.ViaGmailAPI, apisrv.Options{CheckToken: func(string) (string, []string, error) {
		return sender, []string{"https://www.googleapis.com/auth/gmail.readonly"}, nil
	}})
	_, err = send(g, "to@example.net", mime(t, "to@example.net", 0))
	if ae := apiErr(t, err); !ae.SettingsProblem() || ae.Code != "insufficientPermissions" || !strings.Contains(err.Error(), "https://mail.google.com/") {
		t.Fatalf("a Gmail token without a sending scope: %v", err)
	}
}

// Every refusal maps to what the delivery engine should do with it.
func TestRefusals(t *testing.T) {
	type want struct {
		temporary, auth, settings, uncertain, daily, permanent bool
		retryAfter                                             bool
		text                                                   string
	}
	cases := []struct {
		via   account.Via
		fault apisrv.Fault
		want  want
	}{
		{account.ViaGraph, apisrv.Throttle, want{temporary: true, retryAfter: true, text: "TooManyRequests"}},
		{account.ViaGraph, apisrv.Unavailable, want{temporary: true, retryAfter: true, text: "503"}},
		{account.ViaGraph, apisrv.Daily, want{temporary: true, daily: true, retryAfter: true, text: "daily sending limit"}},
		{account.ViaGraph, apisrv.AccessDenied, want{auth: true, settings: true, text: "ErrorAccessDenied"}},
		{account.ViaGraph, apisrv.NotEnabled, want{auth: true, settings: true, text: "MailboxNotEnabledForRESTAPI"}},
		{account.ViaGraph, apisrv.BadRequest, want{permanent: true, text: "ErrorInvalidRecipients"}},
		{account.ViaGraph, apisrv.Internal, want{temporary: true, uncertain: true, text: "may have been sent"}},
		{account.ViaGmailAPI, apisrv.Throttle, want{temporary: true, retryAfter: true, text: "rateLimitExceeded"}},
		{account.ViaGmailAPI, apisrv.RateLimit403, want{temporary: true, text: "userRateLimitExceeded"}},
		{account.ViaGmailAPI, apisrv.Unavailable, want{temporary: true, retryAfter: true, text: "503"}},
		{account.ViaGmailAPI, apisrv.Daily, want{temporary: true, daily: true, retryAfter: true, text: "(Mail sending)"}},
		{account.ViaGmailAPI, apisrv.AccessDenied, want{auth: true, settings: true, text: "domainPolicy"}},
		{account.ViaGmailAPI, apisrv.NotEnabled, want{auth: true, settings: true, text: "failedPrecondition"}},
		{account.ViaGmailAPI, apisrv.BadRequest, want{permanent: true, text: "invalidArgument"}},
		{account.ViaGmailAPI, apisrv.Internal, want{temporary: true, uncertain: true, text: "may have been sent"}},
	}
	for _, tc := range cases {
		t.Run(string(tc.via)+"/"+tc.want.text, func(t *testing.T) {
			e := newEnv(t, tc.via, apisrv.Options{RetryAfter: 5 * time.Minute})
			e.api.SetFault(tc.fault)
			_, err := send(e, "to@example.net", mime(t, "to@example.net", 0))
			ae := apiErr(t, err)
			got := want{temporary: ae.Temporary(), auth: ae.AuthFailure(), settings: ae.SettingsProblem(), uncertain: ae.Uncertain(),
				daily: ae.DailyLimit(), permanent: ae.Permanent(), retryAfter: ae.RetryAfter() >= time.Minute, text: tc.want.text}
			if got != tc.want || !strings.Contains(err.Error(), tc.want.text) {
				t.Fatalf("%v\n got %+v\nwant %+v", err, got, tc.want)
			}
			if ae.Advice == "" && !ae.Permanent() {
				t.Errorf("no advice for %v", err)
			}
		})
	}
}

// A 429's Retry-After holds back every request of the account, and one
// longer than MaxWait gives the message back unsent rather than waiting.
func TestRetryAfterHoldsTheAccountBack(t *testing.T) {
	e := newEnv(t, account.ViaGraph, apisrv.Options{RetryAfter: 2 * time.Minute,
		Inject: func(k int64) apisrv.Fault {
			if k == 1 {
				return apisrv.Throttle
			}
			return apisrv.None
		}})
	_, err := send(e, "to@example.net", mime(t, "to@example.net", 0))
	if ae := apiErr(t, err); !ae.Temporary() || ae.RetryAfter() != 2*time.Minute {
		t.Fatalf("first: %v (retry after %v)", err, ae.RetryAfter())
	}
	_, err = send(e, "to@example.net", mime(t, "to@example.net", 0))
	ae := apiErr(t, err)
	if !ae.Temporary() || !ae.NotSent() || ae.RetryAfter() < time.Minute || e.api.Requests() != 1 {
		t.Fatalf("second, inside the Retry-After: %v; %d requests reached the service", err, e.api.Requests())
	}
}

// Messages over the APIs' limits are refused before any request, with the
// size and the limit; a message at Graph's limit goes.
func TestSizeLimits(t *testing.T) {
	e := newEnv(t, account.ViaGraph, apisrv.Options{})
	big := mime(t, "to@example.net", provider.GraphMaxMIME)
	_, err := send(e, "to@example.net", big)
	if ae := apiErr(t, err); !ae.Permanent() || e.api.Requests() != 0 ||
		!strings.Contains(err.Error(), "3000000 bytes") || !strings.Contains(err.Error(), "4 MB") {
		t.Fatalf("over Graph's 4 MB: %v (%d requests)", err, e.api.Requests())
	}
	fits := mime(t, "to@example.net", 2_150_000) // about 2.95 MB once base64-encoded in the MIME
	if len(fits) > provider.GraphMaxMIME {
		t.Fatalf("test message of %d bytes does not fit", len(fits))
	}
	if _, err := send(e, "to@example.net", fits); err != nil {
		t.Fatalf("%d bytes, under Graph's limit: %v", len(fits), err)
	}

	g := newEnv(t, account.ViaGmailAPI, apisrv.Options{})
	huge := append(mime(t, "to@example.net", 0), bytes.Repeat([]byte("x"), provider.GmailAPIMaxBytes)...)
	_, err = send(g, "to@example.net", huge)
	if ae := apiErr(t, err); !ae.Permanent() || g.api.Requests() != 0 || !strings.Contains(err.Error(), "36700160 bytes") {
		t.Fatalf("over Gmail's 35 MB: %v", err)
	}
}

// The APIs send to the message's own headers: an envelope address that is
// not among them is refused before any request.
func TestRecipientMustBeInTheHeaders(t *testing.T) {
	e := newEnv(t, account.ViaGmailAPI, apisrv.Options{})
	_, err := send(e, "someone.else@example.net", mime(t, "to@example.net", 0))
	if ae := apiErr(t, err); !ae.Permanent() || e.api.Requests() != 0 || !strings.Contains(err.Error(), "someone.else@example.net") {
		t.Fatalf("%v", err)
	}
	if _, err := e.client.Send(context.Background(), sender, []string{"TO@Example.NET"}, mime(t, "to@example.net", 0)); err != nil {
		t.Fatalf("addresses compare without case: %v", err)
	}
}

// A token the service refuses (revoked early, expired by its clock) is
// refreshed once by SendOne, which then succeeds.
func TestSendOneRefreshesOnce(t *testing.T) {
	e := newEnv(t, account.ViaGraph, apisrv.Options{})
	if _, err := send(e, "to@example.net", mime(t, "to@example.net", 0)); err != nil {
		t.Fatal(err)
	}
	e.auth.ExpireAccessTokens() // the cached token still looks valid to bluemoon
	_, err := send(e, "to@example.net", mime(t, "to@example.net", 0))
	if ae := apiErr(t, err); !ae.AuthFailure() || ae.Status != 401 {
		t.Fatalf("expired token: %v", err)
	}
	before := e.auth.RefreshCount()
	if _, err := e.client.SendOne(context.Background(), sender, []string{"to@example.net"}, mime(t, "to@example.net", 0)); err != nil {
		t.Fatal(err)
	}
	if e.auth.RefreshCount() != before+1 || !strings.Contains(e.auth.LastRefreshScope(), "graph.microsoft.com/Mail.Send") {
		t.Fatalf("%d refreshes (scope %q), want one for Graph", e.auth.RefreshCount()-before, e.auth.LastRefreshScope())
	}
}

// The sessions of a delivery share the client; each one the service
// refused asks for a refresh when it opens again. They were refused the
// same token, so one refresh serves them all, however late the others ask
// (asking "refresh the token held now", a late one would replace the
// token just fetched).
func TestSessionsRefusedTheSameTokenShareOneRefresh(t *testing.T) {
	e := newEnv(t, account.ViaGraph, apisrv.Options{})
	if _, err := send(e, "to@example.net", mime(t, "to@example.net", 0)); err != nil {
		t.Fatal(err)
	}
	e.auth.ExpireAccessTokens()
	const sessions = 4
	for i := 0; i < sessions; i++ {
		_, err := send(e, "to@example.net", mime(t, "to@example.net", 0))
		if ae := apiErr(t, err); !ae.AuthFailure() || ae.Status != 401 {
			t.Fatalf("session %d with the expired token: %v", i, err)
		}
	}
	before := e.auth.RefreshCount()
	var first string
	for i := 0; i < sessions; i++ {
		tok, err := e.client.RefreshRefused(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = tok
		} else if tok != first {
			t.Errorf("session %d got another token than the first", i)
		}
	}
	if n := e.auth.RefreshCount() - before; n != 1 {
		t.Fatalf("%d refreshes for %d sessions refused the same token, want 1", n, sessions)
	}
	if _, err := send(e, "to@example.net", mime(t, "to@example.net", 0)); err != nil {
		t.Fatalf("after the refresh: %v", err)
	}
}

// A connection that breaks after the request was written leaves the
// message uncertain; one refused before anything was written, not sent.
func TestBrokenConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				// Read the whole request, then hang up without a reply.
				if req, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					io.Copy(io.Discard, req.Body)
				}
				c.Close()
			}()
		}
	}()
	e := newEnv(t, account.ViaGmailAPI, apisrv.Options{})
	c, err := mailapi.New(transport.Config{Via: account.ViaGmailAPI, APIEndpoint: "http://" + ln.Addr().String(), Tokens: e.src})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), sender, []string{"to@example.net"}, mime(t, "to@example.net", 0))
	if ae := apiErr(t, err); !ae.Uncertain() || ae.NotSent() {
		t.Fatalf("connection closed after the request: %v", err)
	}

	dead := "http://" + ln.Addr().String()
	ln.Close()
	c, _ = mailapi.New(transport.Config{Via: account.ViaGmailAPI, APIEndpoint: dead, Tokens: e.src})
	_, err = c.Send(context.Background(), sender, []string{"to@example.net"}, mime(t, "to@example.net", 0))
	if ae := apiErr(t, err); ae.Uncertain() || !ae.NotSent() || !ae.Temporary() {
		t.Fatalf("nobody listening: %v", err)
	}
}

// A bearer token never goes over plain http to another machine.
func TestEndpointMustBeHTTPSOffLoopback(t *testing.T) {
	for _, ep := range []string{"http://graph.example.net", "ftp://127.0.0.1", "not a url"} {
		if _, err := mailapi.New(transport.Config{Via: account.ViaGraph, APIEndpoint: ep, Tokens: nopTokens{}}); err == nil {
			t.Errorf("api_endpoint %q accepted", ep)
		}
	}
	for _, ep := range []string{"https://graph.microsoft.us", "http://127.0.0.1:8080", "http://localhost:1"} {
		if _, err := mailapi.New(transport.Config{Via: account.ViaGraph, APIEndpoint: ep, Tokens: nopTokens{}}); err != nil {
			t.Errorf("api_endpoint %q refused: %v", ep, err)
		}
	}
}

type nopTokens struct{}

func (nopTokens) AccessToken(context.Context) (string, error)            { return "t", nil }
func (nopTokens) RefreshRefused(context.Context, string) (string, error) { return "t", nil }
