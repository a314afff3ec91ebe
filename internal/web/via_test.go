package web_test

import (
	"net/http"
	"strings"
	"testing"

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
