package web_test

import (
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/core"
)

// importFile makes a credential file of provider and imports it as name.
func importFile(t *testing.T, c *console, prov, name string) {
	t.Helper()
	in := core.CreateInput{Provider: prov, ClientID: "app.apps.example", ClientSecret: "secret"}
	if prov == "microsoft" {
		in.ClientSecret = ""
	}
	d, _, err := c.svc.CreateCredentialFile(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.ImportCredentialFile(t.Context(), core.ImportInput{Source: name + ".bmcred", Name: name, Data: d}); err != nil {
		t.Fatal(err)
	}
}

// Choosing Microsoft Graph (or the Gmail API) with a credential file of
// the other provider gets the same specific message beside the file's
// input as choosing SMTP does, not the way's less specific one.
func TestAccountFormViaAnAPIWithTheOtherProvidersFileSaysWhose(t *testing.T) {
	c := startConsole(t)
	importFile(t, c, "google", "google-file")
	importFile(t, c, "microsoft", "ms-file")
	for _, tc := range []struct {
		choice, via, creds string
		want               map[string]string
	}{
		{"microsoft", "graph", "google-file", map[string]string{
			"en": "The credential file “google-file” is for Google Workspace, not Microsoft 365. Choose Google Workspace as the sign-in method, or import a credential file for Microsoft 365 in Advanced settings and choose it.",
			"ja": "資格情報ファイル「google-file」は Google Workspace 用で、Microsoft 365 用ではありません。認証方式で Google Workspace を選ぶか、詳細設定で Microsoft 365 用の資格情報ファイルをインポートして選んでください。",
		}},
		{"google", "gmail-api", "ms-file", map[string]string{
			"en": "The credential file “ms-file” is for Microsoft 365, not Google Workspace.",
			"ja": "資格情報ファイル「ms-file」は Microsoft 365 用で、Google Workspace 用ではありません。",
		}},
	} {
		for lang, w := range tc.want {
			s := c.session()
			s.hc.Transport = langTransport{lang}
			code, page, _ := s.postForm("/accounts/new", url.Values{"name": {"office"}, "from": {"info@contoso.example"},
				"auth_choice": {tc.choice}, "credentials": {tc.creds}, "via": {tc.via}})
			marked := regexp.MustCompile(`<select id="credentials"[^>]*aria-invalid="true"`).MatchString(page)
			if code != http.StatusUnprocessableEntity || strings.Count(page, template.HTMLEscapeString(w)) < 2 || !marked {
				t.Errorf("%s, %s via %s with %s: %d; want 422 saying %q in the summary and beside the credential file\n%s", lang, tc.choice, tc.via, tc.creds, code, w, page)
			}
		}
	}
	if _, err := c.svc.Account(t.Context(), "office"); err == nil {
		t.Error("a refused form saved the account")
	}
}
