package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// The account page says which way the account sends, in the reader's
// language: an account switched to Microsoft Graph (with the CLI) shows it.
func TestAccountPageShowsTheWayItSends(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "info@contoso.example")
	seedAccounts(t, c, ms)
	if _, err := c.svc.EditAccount(t.Context(), "info", core.AccountInput{Via: core.Ptr("graph")}); err != nil {
		t.Fatal(err)
	}
	hc := c.client()
	for lang, want := range map[string]string{"en": "Microsoft Graph (SMTP AUTH off)", "ja": "Microsoft Graph（SMTP AUTH 無効）"} {
		for acct, w := range map[string]string{"info": want, "relay": "<dd>SMTP</dd>"} {
			req, _ := http.NewRequest("GET", c.srv.BaseURL()+"/accounts/"+acct, nil)
			req.Header.Set("Accept-Language", lang)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if b := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, w) || missingKey.MatchString(b) {
				t.Errorf("%s account page (%s): %s, want %q shown and no missing text\n%s", acct, lang, resp.Status, w, b)
			}
		}
	}
}

// The account form offers the provider's own API beside SMTP, and only
// that one; switching the account to a password sends by SMTP again.
func TestAccountFormChoosesTheWayItSends(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "info@contoso.example")
	seedAccounts(t, c, ms)
	b := newBrowser(t, "en")
	b.open(c)
	b.goTo(c, "/accounts/info/edit")
	if !b.visible(`input[name=via][value=graph]`) || b.visible(`input[name=via][value=gmail-api]`) {
		t.Fatal("a Microsoft 365 account must be offered Microsoft Graph and not the Gmail API")
	}
	b.do(chromedp.Click(`input[name=via][value=graph]`))
	b.submit(`form button.primary[type=submit]`)
	b.waitText("main", "Microsoft Graph (SMTP AUTH off)")
	if a, _ := c.svc.Account(t.Context(), "info"); string(a.SendsVia()) != "graph" {
		t.Fatalf("saved via %q, want graph", a.SendsVia())
	}
	b.goTo(c, "/accounts/info/edit")
	b.do(chromedp.Click(`input[name=auth_choice][value=password]`))
	b.fill("#password", "pw")
	b.submit(`form button.primary[type=submit]`)
	if a, err := c.svc.Account(t.Context(), "info"); err != nil || string(a.SendsVia()) != "smtp" {
		t.Fatalf("after switching to a password: via %v (%v)\n%s", a.SendsVia(), err, b.pageText())
	}
}
