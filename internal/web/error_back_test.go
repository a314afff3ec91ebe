package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// refererTransport sends a Referer of another site with every request, and
// the page's language.
type refererTransport struct{ lang, referer string }

func (l refererTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r.Header.Set("Accept-Language", l.lang)
	r.Header.Set("Referer", l.referer)
	return http.DefaultTransport.RoundTrip(r)
}

var errorBack = regexp.MustCompile(`<a href="([^"]*)" id="error-back">([^<]*)</a>`)

// The error page leads back to the section whose page failed, in the
// page's language: a delivery that is not there to the deliveries, a
// schedule to the schedules, an import gone to the do-not-mail list — not
// always to the accounts. The way back is the server's, from the path: a
// Referer naming another site is not echoed into the page.
func TestTheErrorPageLeadsBackToTheSectionThatFailed(t *testing.T) {
	c := startConsole(t)
	const evil = "https://evil.example/phish"
	for _, tc := range []struct {
		path, href string
		label      map[string]string
	}{
		{"/deliveries/999", "/deliveries", map[string]string{"en": "Back to deliveries", "ja": "配信一覧へ戻る"}},
		{"/drafts/nosuchdraft/message", "/deliveries", map[string]string{"en": "Back to deliveries", "ja": "配信一覧へ戻る"}},
		{"/deliveries/saved/nosuch/run", "/deliveries/saved", map[string]string{"en": "Back to saved deliveries", "ja": "保存した配信の一覧へ戻る"}},
		{"/schedules/nosuch/edit", "/schedules", map[string]string{"en": "Back to schedules", "ja": "スケジュール一覧へ戻る"}},
		{"/suppression/import/nosuchdraft", "/suppression", map[string]string{"en": "Back to the do-not-mail list", "ja": "配信停止リストへ戻る"}},
		{"/accounts/nosuch", "/accounts", map[string]string{"en": "Back to accounts", "ja": "アカウント一覧へ戻る"}},
	} {
		for lang, label := range tc.label {
			s := c.session()
			s.hc.Transport = refererTransport{lang, evil}
			code, page := s.get(tc.path)
			m := errorBack.FindStringSubmatch(page)
			if code != http.StatusNotFound || m == nil || m[1] != tc.href || m[2] != label {
				t.Errorf("%s (%s): %d, back link %q; want 404 leading to %s as %q\n%s", tc.path, lang, code, m, tc.href, label, page)
			}
			if strings.Contains(page, "evil.example") {
				t.Errorf("%s (%s): the Referer is in the page", tc.path, lang)
			}
		}
	}
}

// The way back is reached and followed with the keyboard alone: Tab to it,
// Enter, and the section's list opens.
func TestTheErrorPagesWayBackWorksFromTheKeyboard(t *testing.T) {
	c := startConsole(t)
	b := newBrowser(t, "ja")
	b.open(c)
	b.goTo(c, "/schedules/nosuch/edit")
	reached := false
	for range 40 {
		b.do(chromedp.KeyEvent(kb.Tab))
		if evalJS[string](b, `document.activeElement.id`) == "error-back" {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatalf("Tab never reaches the way back\n%s", b.pageText())
	}
	if got := evalJS[string](b, `document.activeElement.textContent`); got != "スケジュール一覧へ戻る" {
		t.Errorf("the way back says %q", got)
	}
	b.do(chromedp.KeyEvent(kb.Enter))
	deadline := time.Now().Add(timeout)
	for evalJS[string](b, `location.pathname`) != "/schedules" {
		if time.Now().After(deadline) {
			t.Fatalf("Enter on the way back did not open /schedules\n%s", b.pageText())
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.waitText("main h1", "スケジュール")
}
