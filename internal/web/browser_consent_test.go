package web_test

import (
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// The stand-ins' consent pages, opened by a browser that prefers
// Japanese, are in Japanese, as Google's and Microsoft's own are.
func TestBrowserStandInConsentJapanese(t *testing.T) {
	b := newBrowser(t, "ja")
	for _, kind := range []provider.Kind{provider.Google, provider.Microsoft} {
		ms := startStandIn(t, kind, "info@contoso.example")
		cfg := ms.oauth.Config("")
		q := url.Values{"client_id": {cfg.ClientID}, "response_type": {"code"}, "redirect_uri": {"http://127.0.0.1:5555"},
			"scope": {cfg.AuthScope}, "state": {"st"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		b.do(chromedp.Navigate(cfg.AuthEndpoint+"?"+q.Encode()), chromedp.WaitVisible("button[value=allow]"))
		if got := evalJS[string](b, `document.documentElement.lang + '|' + document.querySelector('h1').innerText + '|' + document.querySelector('button[value=allow]').innerText + '|' + document.querySelector('button[value=deny]').innerText`); got != "ja|ログインしてアクセスを許可|許可|キャンセル" {
			t.Errorf("%s: the consent page says %q", kind, got)
		}
		b.waitText("body", "アプリケーション "+cfg.ClientID+" が次のアクセスを求めています")
	}
}
