package core

import (
	"context"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/apisrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
)

// The way an account sends is checked against its sign-in: graph needs
// Microsoft credentials, gmail-api Google ones, both OAuth. Changing the
// way resets the limits to the new way's preset and says so.
func TestAccountViaIsCheckedAndMovesTheLimits(t *testing.T) {
	svc, _ := oauthService(t, provider.Microsoft, "alice@contoso.example")
	ctx := context.Background()

	wantField(t, errOf(svc.EditAccount(ctx, "work", AccountInput{Via: Ptr("fax")})), "via")
	fe := wantField(t, errOf(svc.EditAccount(ctx, "work", AccountInput{Via: Ptr("gmail-api")})), "via")
	if !strings.Contains(fe.Message, "google") {
		t.Errorf("gmail-api on Microsoft credentials: %q does not name the provider it needs", fe.Message)
	}
	if info, _ := svc.Account(ctx, "work"); info.SendsVia() != account.ViaSMTP {
		t.Fatalf("a refused edit changed the way: %s", info.Via)
	}

	ch, err := svc.EditAccount(ctx, "work", AccountInput{Via: Ptr("GRAPH")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.Warnings) != 1 || ch.Warnings[0].Code != WarnViaChanged || !strings.Contains(ch.Warnings[0].Message, "login work") {
		t.Fatalf("warnings %+v", ch.Warnings)
	}
	info, err := svc.Account(ctx, "work")
	if err != nil || info.Via != account.ViaGraph || info.Limits != provider.APILimits(provider.Microsoft) {
		t.Fatalf("after --via graph: via %q, limits %+v (%v)", info.Via, info.Limits, err)
	}
	// Editing something else keeps the way and the limits as set.
	if ch, err := svc.EditAccount(ctx, "work", AccountInput{PerMinute: Ptr(7)}); err != nil || len(ch.Warnings) != 0 {
		t.Fatalf("edit per-minute: %v %+v", err, ch)
	}
	// Leaving OAuth is refused while the account sends through Graph.
	wantField(t, errOf(svc.EditAccount(ctx, "work", AccountInput{Auth: Ptr("plain"), Password: Ptr("pw")})), "via")
	// Back to SMTP: the SMTP preset again, per-minute given wins.
	ch, err = svc.EditAccount(ctx, "work", AccountInput{Via: Ptr("smtp"), PerMinute: Ptr(9)})
	if err != nil || len(ch.Warnings) != 1 || ch.Warnings[0].Code != WarnViaChanged {
		t.Fatalf("back to smtp: %v %+v", err, ch)
	}
	want := provider.LimitsFor(provider.Microsoft)
	want.PerMinute = 9
	if info, _ := svc.Account(ctx, "work"); info.SendsVia() != account.ViaSMTP || info.Limits != want {
		t.Fatalf("back to smtp: via %q limits %+v", info.Via, info.Limits)
	}

	// A new account starts on the API's preset, without a note.
	ch, err = svc.AddAccount(ctx, "api", AccountInput{From: Ptr("alice@contoso.example"), Credentials: Ptr("org"), Via: Ptr("graph")})
	if err != nil || len(ch.Warnings) != 0 || ch.Account.Limits != provider.APILimits(provider.Microsoft) {
		t.Fatalf("add --via graph: %v %+v", err, ch)
	}
	// A password account cannot send through an API.
	_, err = svc.AddAccount(ctx, "relay", AccountInput{From: Ptr("a@example.com"), SMTPHost: Ptr("h"), SMTPPort: Ptr(25),
		Auth: Ptr("plain"), Password: Ptr("pw"), Via: Ptr("graph")})
	wantField(t, err, "via")
}

// auth status of an account sending through Graph shows the Graph token,
// labelled apart from the sign-in's own (SMTP) token: none until the first
// send fetches one, then its own expiry.
func TestSignInStateOfAGraphAccountShowsTheGraphToken(t *testing.T) {
	svc, auth := oauthService(t, provider.Microsoft, "alice@contoso.example")
	api, err := apisrv.Start(apisrv.Options{Flavor: apisrv.Graph, CheckToken: auth.ValidateAccessToken})
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	ctx := context.Background()
	cfg := auth.Config("")
	cfg.APIEndpoint = api.URL()
	cs, err := svc.credentials()
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Import(ctx, "graph", cfg, credstore.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.EditAccount(ctx, "work", AccountInput{Credentials: Ptr("graph"), Via: Ptr("graph")}); err != nil {
		t.Fatal(err)
	}
	sig, err := svc.StartSignIn(ctx, "work", SignInOptions{Mode: SignInLink})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sig.Prompt.URL, "Mail.Send") {
		t.Errorf("the sign-in of a graph account does not ask for Mail.Send: %s", sig.Prompt.URL)
	}
	go (&oauthsrv.Browser{}).SignIn(ctx, sig.Prompt.URL)
	if _, err := sig.Wait(ctx); err != nil {
		t.Fatal(err)
	}

	st, err := svc.SignInStatus(ctx, "work", false)
	if err != nil {
		t.Fatal(err)
	}
	if st.Via != account.ViaGraph || !strings.Contains(st.APIScope, "Mail.Send") || !st.APIAccessExpires.IsZero() || st.AccessExpires.IsZero() {
		t.Fatalf("before any send: %+v", st)
	}

	res, err := svc.TestSend(ctx, TestSendInput{Account: "work", To: "me@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if api.Accepted() != 1 || res.Reply.Code != 202 {
		t.Fatalf("test send through Graph: reply %v, accepted %d", res.Reply, api.Accepted())
	}
	st, err = svc.SignInStatus(ctx, "work", false)
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := svc.secrets()
	tok, err := oauth.LoadToken(sec, "work")
	if err != nil {
		t.Fatal(err)
	}
	graph := tok.Resources[st.APIScope]
	if graph == nil || !st.APIAccessExpires.Equal(graph.Expiry) || !st.AccessExpires.Equal(tok.Expiry) {
		t.Fatalf("after the send: state %+v; stored Graph token %v, SMTP token expiry %v", st, graph, tok.Expiry)
	}

	// --check refreshes the token the account sends with: Graph's.
	before := st.APIAccessExpires
	if st, err = svc.SignInStatus(ctx, "work", true); err != nil || st.Health != HealthOK {
		t.Fatalf("check: %+v %v", st, err)
	}
	if tok, _ := oauth.LoadToken(sec, "work"); tok.Resources[st.APIScope] == nil || !st.APIAccessExpires.Equal(tok.Resources[st.APIScope].Expiry) || st.APIAccessExpires.Before(before) {
		t.Fatalf("after check: %+v", st)
	}

	// Google's one token serves the Gmail API: no separate line.
	gsvc, _ := oauthService(t, provider.Google, "news@example.org")
	if _, err := gsvc.EditAccount(ctx, "work", AccountInput{Via: Ptr("gmail-api")}); err != nil {
		t.Fatal(err)
	}
	if st, err := gsvc.SignInStatus(ctx, "work", false); err != nil || st.Via != account.ViaGmailAPI || st.APIScope != "" {
		t.Fatalf("gmail-api: %+v %v", st, err)
	}
}
