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

// importForAccount uploads data on an account's 詳細設定 and confirms the
// import under name (replace ticked when asked), as the page's two forms
// would; it returns the confirmation's answer.
func importForAccount(t *testing.T, s *session, acct, name string, replace bool, data []byte) (int, string) {
	t.Helper()
	code, page, _ := s.post("/oauth/import", map[string]string{"account": acct, "provider": "google"},
		map[string]map[string][]byte{"file": {name + ".bmcred": data}})
	m := regexp.MustCompile(`name="upload" value="([^"]+)"`).FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("upload: %d, no confirmation step\n%s", code, page)
	}
	f := url.Values{"upload": {m[1]}, "account": {acct}, "trusted": {"on"}, "name": {name}}
	if replace {
		f.Set("replace", "on")
	}
	code, page, _ = s.postForm("/oauth/import/confirm", f)
	return code, page
}

// Importing, on a Google account's 詳細設定, a Microsoft 365 file the
// account cannot use (its server is Google's) is refused and changes
// nothing: the file is not imported, and the account signs in with the
// file it had — also when the import would have replaced that very file.
func TestARefusedImportForAnAccountKeepsItsCredentialFile(t *testing.T) {
	c := startConsole(t)
	importFile(t, c, "google", "gfile")
	if _, err := c.svc.AddAccount(t.Context(), "work", core.AccountInput{From: core.Ptr("news@example.com"), Credentials: core.Ptr("gfile")}); err != nil {
		t.Fatal(err)
	}
	ms, _, err := c.svc.CreateCredentialFile(t.Context(), core.CreateInput{Provider: "microsoft", ClientID: "cid"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		replace bool
	}{{"msfile", false}, {"gfile", true}} {
		s := c.session()
		s.hc.Transport = langTransport{"en"}
		code, page := importForAccount(t, s, "work", tc.name, tc.replace, ms)
		want := "The SMTP server smtp.gmail.com is Google Workspace's, but the credential file “" + tc.name + "” is for Microsoft 365."
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, template.HTMLEscapeString(want)) {
			t.Errorf("import as %s (replace %v): %d; want 422 saying %q\n%s", tc.name, tc.replace, code, want, page)
		}
		info, err := c.svc.Account(t.Context(), "work")
		if err != nil || info.Credentials != "gfile" {
			t.Fatalf("import as %s: after the refusal the account uses %q (%v)", tc.name, info.Credentials, err)
		}
		if cr, err := c.svc.Credential(t.Context(), "gfile"); err != nil || cr.Provider != "google" {
			t.Errorf("import as %s: after the refusal the account's file is for %v (%v)", tc.name, cr.Provider, err)
		}
		if _, err := c.svc.Credential(t.Context(), "msfile"); err == nil {
			t.Errorf("import as %s: the refused file was imported as msfile", tc.name)
		}
	}
	// A file it can use is imported and taken, as before.
	s := c.session()
	g2, _, err := c.svc.CreateCredentialFile(t.Context(), core.CreateInput{Provider: "google", ClientID: "other.apps.example", ClientSecret: "s2"})
	if err != nil {
		t.Fatal(err)
	}
	if code, page := importForAccount(t, s, "work", "g2", false, g2); code != http.StatusOK {
		t.Fatalf("import of a Google file: %d\n%s", code, page)
	}
	if info, _ := c.svc.Account(t.Context(), "work"); info.Credentials != "g2" {
		t.Errorf("after importing g2 the account uses %q", info.Credentials)
	}
}

// Replacing, outside an account, credentials that accounts sign in with
// by a file one of them could not use is refused as the import for an
// account is: naming the accounts and what to do, in the person's
// language, importing nothing.
func TestReplacingCredentialsAccountsCannotUseIsRefused(t *testing.T) {
	c := startConsole(t)
	importFile(t, c, "google", "gfile")
	for _, name := range []string{"work", "news"} {
		if _, err := c.svc.AddAccount(t.Context(), name, core.AccountInput{From: core.Ptr(name + "@example.com"), Credentials: core.Ptr("gfile")}); err != nil {
			t.Fatal(err)
		}
	}
	ms, _, err := c.svc.CreateCredentialFile(t.Context(), core.CreateInput{Provider: "microsoft", ClientID: "cid"})
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][]string{
		"en": {"Accounts news, work sign in with “gfile” and could not use this Microsoft 365 credential file, so nothing was imported.", "Import it under another name"},
		"ja": {"アカウント news、work が「gfile」でサインインしており、この Microsoft 365 用の資格情報ファイルは使えないため、何もインポートしていません。", "別の名前でインポートして"},
	} {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		code, page := importForAccount(t, s, "", "gfile", true, ms)
		for _, w := range want {
			if code != http.StatusUnprocessableEntity || !strings.Contains(page, template.HTMLEscapeString(w)) {
				t.Errorf("%s: replace gfile with a Microsoft file: %d; want 422 saying %q\n%s", lang, code, w, page)
			}
		}
		if cr, err := c.svc.Credential(t.Context(), "gfile"); err != nil || cr.Provider != "google" {
			t.Fatalf("%s: after the refusal gfile is for %v (%v)", lang, cr.Provider, err)
		}
	}
}
