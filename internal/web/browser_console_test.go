package web_test

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

func TestBrowserWithoutTokenSaysHowToOpen(t *testing.T) {
	c := startConsole(t)
	b := newBrowser(t, "ja")
	b.do(chromedp.Navigate(c.srv.BaseURL() + "/accounts"))
	if got := b.text("main h1"); got != "bluemoon からコンソールを開いてください" {
		t.Fatalf("Japanese page without a session says %q", got)
	}
	if got := b.text("pre.cmd"); got != "bluemoon console" {
		t.Fatalf("the page shows %q as the command", got)
	}
	b.open(c)
	if got := b.text("main h1"); got != "アカウント" {
		t.Fatalf("after the one-time URL the console shows %q", got)
	}
	// The switch on every page: English, and back.
	b.do(chromedp.Click("header .lang"), chromedp.WaitVisible("main h1"))
	if got := b.text("main h1"); got != "Accounts" {
		t.Fatalf("after the language switch: %q", got)
	}
	b.goTo(c, "/accounts/new")
	if got := b.text("main h1"); got != "Add an account" {
		t.Fatalf("the choice of English did not stick: %q", got)
	}
}

func TestBrowserAddPasswordAccountAndTestSend(t *testing.T) {
	c := startConsole(t)
	relay := startStandIn(t, provider.Microsoft, "relay@example.org")
	b := newBrowser(t, "en")
	b.open(c)
	b.goTo(c, "/accounts/new")
	b.fill("#name", "relay")
	b.fill("#from", "relay@example.org")
	b.do(chromedp.Click(`input[name=auth_choice][value=password]`))
	b.fill("#password", "relay-password")
	host, port := splitAddr(t, relay.smtp.Addr())
	b.fill("#smtp_host", host)
	b.fill("#smtp_port", port)
	b.do(chromedp.Click(`input[name=security][value=starttls]`))
	b.fill("#ca_file", relay.ca)
	b.submit(`form button.primary[type=submit]`)
	if got := b.text("main h1"); !strings.HasPrefix(got, "relay") {
		t.Fatalf("after saving, the page is %q (%s)", got, b.text("main"))
	}
	if got := b.text("main .badge"); got != "Password" {
		t.Fatalf("a password account shows %q", got)
	}
	b.goTo(c, "/accounts/relay/test")
	b.submit("#test-send-button")
	if got := b.text("#test-result"); !strings.Contains(got, "accepted the test message to relay@example.org") {
		t.Fatalf("test send result: %q", got)
	}
	if n := len(relay.smtp.Messages()); n != 1 {
		t.Fatalf("the SMTP stand-in got %d messages, want 1", n)
	}
	b.goTo(c, "/accounts")
	if got := b.text("main table"); !strings.Contains(got, "OK") {
		t.Fatalf("the list does not show the last test send: %q", got)
	}
}

// The guide's whole path in Japanese: the administrator reveals the hidden
// area with Ctrl + Shift + Alt + 9, checks 既定値の設定 for both providers,
// makes a file; the user imports it, signs in through the browser and
// test-sends.
func TestBrowserCredentialFileSignInAndTestSendJapanese(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "info@contoso.example")
	b := newBrowser(t, "ja")
	downloads := t.TempDir()
	b.downloadsTo(downloads)
	b.acceptDialogs()
	b.open(c)

	// The account form: Microsoft 365 chosen, no credential file yet, so
	// the user opens 詳細設定 from the form.
	b.goTo(c, "/accounts/new")
	b.fill("#name", "info")
	b.fill("#from", ms.from)
	b.do(chromedp.Click(`input[name=auth_choice][value=microsoft]`))
	if b.value("#smtp_host") != "smtp.office365.com" || b.value("#smtp_port") != "587" {
		t.Fatalf("choosing Microsoft 365 did not fill the preset: %q %q", b.value("#smtp_host"), b.value("#smtp_port"))
	}
	b.submit("#open-advanced")
	if got := b.text("main h1"); !strings.Contains(got, "詳細設定") {
		t.Fatalf("詳細設定 shows %q", got)
	}

	// Hidden until the keys; nothing else shows it.
	if b.visible("#credarea") {
		t.Fatal("the credential-file area is visible before Ctrl + Shift + Alt + 9")
	}
	b.credAreaKeys()
	if !b.visible("#credarea") {
		t.Fatal("Ctrl + Shift + Alt + 9 did not show the credential-file area")
	}
	b.credAreaKeys()
	if b.visible("#credarea") {
		t.Fatal("pressing Ctrl + Shift + Alt + 9 again did not hide it")
	}
	b.credAreaKeys()
	b.do(chromedp.Click("#credarea-close"))
	if b.visible("#credarea") {
		t.Fatal("閉じる did not hide the area")
	}
	b.credAreaKeys()

	// 既定値の設定 for Google: all seven fields.
	b.do(chromedp.SetValue("#cf-provider", "google"), chromedp.Evaluate[chromedp.Void](`document.querySelector('#cf-provider').dispatchEvent(new Event('change'))`))
	b.do(chromedp.Click("#cred-defaults"))
	b.waitText("#credform-status", "Google Workspace の既定値を設定しました")
	for sel, want := range map[string]string{"#cf-auth_endpoint": provider.GoogleAuthEndpoint, "#cf-auth_scope": provider.GoogleAuthScope,
		"#cf-token_endpoint": provider.GoogleTokenEndpoint, "#cf-token_scope": provider.GoogleTokenScope, "#cf-client_id": "", "#cf-client_secret": ""} {
		if got := b.value(sel); got != want {
			t.Errorf("Google defaults: %s = %q, want %q", sel, got, want)
		}
	}
	if b.visible("#cf-tenant") || !b.visible("#cf-client_secret") {
		t.Error("for Google the tenant must be hidden and the client secret asked")
	}
	// A missing required field is named before anything is made.
	b.do(chromedp.Click("#cred-create"))
	b.waitText("#err-client_id", "クライアント ID")
	b.waitText("#err-client_secret", "クライアント・シークレット")

	// 既定値の設定 for Microsoft, tenant organizations.
	b.do(chromedp.SetValue("#cf-provider", "microsoft"), chromedp.Evaluate[chromedp.Void](`document.querySelector('#cf-provider').dispatchEvent(new Event('change'))`))
	b.do(chromedp.Click("#cred-defaults"))
	b.waitText("#credform-status", "Microsoft 365 の既定値を設定しました")
	msAuth := strings.ReplaceAll(provider.MicrosoftAuthEndpoint, "{tenant}", "organizations")
	msToken := strings.ReplaceAll(provider.MicrosoftTokenEndpoint, "{tenant}", "organizations")
	for sel, want := range map[string]string{"#cf-tenant": "organizations", "#cf-auth_endpoint": msAuth, "#cf-auth_scope": provider.MicrosoftAuthScope,
		"#cf-token_endpoint": msToken, "#cf-token_scope": provider.MicrosoftTokenScope} {
		if got := b.value(sel); got != want {
			t.Errorf("Microsoft defaults: %s = %q, want %q", sel, got, want)
		}
	}
	if !b.visible("#cf-tenant") || b.visible("#cf-client_secret") {
		t.Error("for Microsoft the tenant must be asked and the client secret not")
	}

	// The administrator points the file at the stand-in (changed defaults
	// are flagged) and makes it.
	cfg := ms.oauth.Config("organizations")
	b.fill("#cf-client_id", cfg.ClientID)
	b.fill("#cf-auth_endpoint", cfg.AuthEndpoint)
	b.fill("#cf-token_endpoint", cfg.TokenEndpoint)
	if !b.visible("#cf-auth_endpoint-changed") || b.visible("#cf-auth_scope-changed") {
		t.Error("a changed endpoint must be flagged, an unchanged scope not")
	}
	b.do(chromedp.Click("#cred-create"))
	b.waitText("#credform-status", "資格情報ファイルを作成しました")
	file := waitFile(t, downloads, ".bmcred")

	// The user imports it: the signer is shown and trust asked; the
	// stand-in's endpoints are not Microsoft's, so they must be accepted.
	b.do(chromedp.SetUploadFiles("#file", []string{file}))
	b.submit("#import-button")
	signer := b.text("#import-signer")
	if !strings.HasPrefix(signer, "SHA256:") {
		t.Fatalf("the signer's fingerprint is shown as %q", signer)
	}
	b.submit("#import-confirm-button")
	b.waitText("#err-trusted", "チェック")
	b.do(chromedp.Click(`input[name=trusted]`))
	b.submit("#import-confirm-button")
	b.waitText("#problem", "既定値ではありません")
	// The box ticked before the refusal stays ticked; only the endpoints
	// are left to accept.
	if !evalJS[bool](b, `document.querySelector('input[name=trusted]').checked`) {
		t.Fatal("the refusal unticked \"I trust this signer\"")
	}
	b.do(chromedp.Click(`input[name=accept_custom]`))
	b.submit("#import-confirm-button")

	// Back in the account form with the file chosen; the stand-in's server.
	if got := b.value("#credentials"); got == "" {
		t.Fatalf("after the import the form has no credential file chosen (%s)", b.text("main"))
	}
	host, port := splitAddr(t, ms.smtp.Addr())
	b.fill("#smtp_host", host)
	b.fill("#smtp_port", port)
	b.fill("#ca_file", ms.ca)
	b.submit(`form button.primary[type=submit]`)
	if got := b.text("main .badge"); got != "サインインが必要" {
		t.Fatalf("a new OAuth account shows %q", got)
	}

	// Sign in: the stand-in's consent page opens in a new tab.
	b.goTo(c, "/accounts/info/oauth")
	closeTab := b.allowInNewTab()
	defer closeTab()
	b.waitText("#signin-status", "info@contoso.example としてサインインしました")
	b.waitText("main", "info@contoso.example としてサインイン済み")

	// テスト送信 to the account itself.
	b.goTo(c, "/accounts/info/test")
	b.submit("#test-send-button")
	if got := b.text("#test-result"); !strings.Contains(got, "info@contoso.example 宛てのテストメッセージを受け付けました") {
		t.Fatalf("test send: %q", got)
	}
	msgs := ms.smtp.Messages()
	if len(msgs) != 1 || msgs[0].User != "info@contoso.example" {
		t.Fatalf("the SMTP stand-in got %d messages (%+v)", len(msgs), msgs)
	}
	_ = os.Remove(file)
}
