package web_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// screenshots names the folder for the review pictures; scripts/screenshots
// sets it. Without it the pictures go to a temporary folder: the test still
// draws every screen, in both languages and both widths, and checks each.
var screenshots = flag.String("screenshots", "", "write a PNG of every console screen here")

// screen is one page worth a picture, and how to reach its interesting state.
type screen struct {
	name  string
	path  string
	setup func(b *browser) // after loading: reveal, fill, press
}

// missingKey is how a catalogue key with no text shows ("[key]").
var missingKey = regexp.MustCompile(`\[[a-z_]+\.[a-z0-9_.\-]+\]`)

// TestEveryScreenInBothLanguagesAndWidths draws each console screen in
// Japanese and English at 1280 × 800 and at 390 px wide: no text may be
// missing from a catalogue, nothing may overflow the narrow window
// sideways, and each picture is kept for review.
func TestEveryScreenInBothLanguagesAndWidths(t *testing.T) {
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "info@contoso.example")
	seedAccounts(t, c, ms)

	screens := []screen{
		{name: "accounts", path: "/accounts"},
		{name: "account", path: "/accounts/info"},
		{name: "account-new", path: "/accounts/new"},
		{name: "account-edit-password", path: "/accounts/relay/edit"},
		{name: "oauth", path: "/accounts/info/oauth"},
		{name: "oauth-credarea", path: "/accounts/info/oauth", setup: func(b *browser) {
			b.credAreaKeys()
			b.do(chromedp.Click("#cred-defaults"))
			b.waitJS(`document.querySelector('#cf-auth_endpoint').value !== ''`)
		}},
		{name: "testsend", path: "/accounts/relay/test"},
		{name: "testsend-failed", path: "/accounts/info/test", setup: func(b *browser) { b.submit("#test-send-button") }},
		{name: "notfound", path: "/nowhere"},
	}
	screens = append(screens, deliveryScreens(t, c, ms)...)
	screens = append(screens, scheduleScreens(t, c, ms)...)

	screens = append(screens, suppressionScreens(t, c, ms)...)
	for _, lang := range []string{"ja", "en"} {
		b := newBrowser(t, lang)
		b.open(c)
		for _, width := range []int{1280, 390} {
			b.do(chromedp.EmulateViewport(int64(width), 800))
			for _, s := range screens {
				b.do(chromedp.Navigate(c.srv.BaseURL() + s.path))
				// "main#main", not "main": a plain word is also searched
				// for in the page's text ("remaining"), whose text node is
				// never visible.
				b.do(chromedp.WaitVisible("main#main"))
				if s.setup != nil {
					s.setup(b)
				}
				text := b.pageText()
				if m := missingKey.FindString(text); m != "" {
					t.Errorf("%s (%s): text missing from the catalogue: %s", s.name, lang, m)
				}
				if width == 390 {
					if w := evalJS[int](b, `document.documentElement.scrollWidth`); w > 390 {
						t.Errorf("%s (%s) is %d px wide in a 390 px window: it scrolls sideways", s.name, lang, w)
					}
				}
				png := get(b, chromedp.FullScreenshot(100))
				name := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.png", s.name, lang, width))
				if err := os.WriteFile(name, png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if *screenshots != "" {
		t.Logf("screenshots in %s", dir)
	}
}

// seedAccounts gives the screens something to show: an OAuth account
// signed in to the stand-in, and a password account.
func seedAccounts(t *testing.T, c *console, ms *standIn) {
	t.Helper()
	ctx := t.Context()
	cfg := ms.oauth.Config("organizations")
	data, _, err := c.svc.CreateCredentialFile(ctx, core.CreateInput{Provider: "microsoft", Tenant: "organizations", ClientID: cfg.ClientID,
		AuthEndpoint: cfg.AuthEndpoint, AuthScope: cfg.AuthScope, TokenEndpoint: cfg.TokenEndpoint, TokenScope: cfg.TokenScope})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.ImportCredentialFile(ctx, core.ImportInput{Source: "contoso.bmcred", Data: data, Name: "contoso", AcceptCustomEndpoints: true}); err != nil {
		t.Fatal(err)
	}
	host, port := splitAddr(t, ms.smtp.Addr())
	var p int
	fmt.Sscan(port, &p)
	if _, err := c.svc.AddAccount(ctx, "info", core.AccountInput{From: core.Ptr(ms.from), FromName: core.Ptr("コントソ株式会社 お知らせ"),
		Credentials: core.Ptr("contoso"), SMTPHost: &host, SMTPPort: &p, CAFile: &ms.ca}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.AddAccount(ctx, "relay", core.AccountInput{From: core.Ptr("relay@example.org"), Auth: core.Ptr("plain"),
		Password: core.Ptr("relay-password"), SMTPHost: &host, SMTPPort: &p, Security: core.Ptr("starttls"), CAFile: &ms.ca}); err != nil {
		t.Fatal(err)
	}
}
