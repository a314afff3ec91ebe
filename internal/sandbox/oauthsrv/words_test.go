package oauthsrv

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// getPage fetches a page of the stand-in as a browser of lang would.
func getPage(t *testing.T, u, lang string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if lang != "" {
		req.Header.Set("Accept-Language", lang)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The consent, error and device-code pages speak Japanese when the
// browser prefers it, as the real providers' pages do; English otherwise.
// The form a person (or Browser) answers is the same in both.
func TestPagesInTheBrowsersLanguage(t *testing.T) {
	for _, flavor := range []provider.Kind{provider.Google, provider.Microsoft} {
		s := start(t, Options{Flavor: flavor, ClientID: "cid", Email: "a@example.com"})
		tenant := ""
		if flavor == provider.Microsoft {
			tenant = "common"
		}
		for _, c := range []struct{ lang, want, not string }{
			{"ja,en-US;q=0.9,en;q=0.8", `<html lang="ja">`, "Allow"},
			{"ja-JP", "ログインしてアクセスを許可", "Sign in and allow"},
			{"en-US,en;q=0.9,ja;q=0.5", "Sign in and allow access", "許可"},
			{"", "Allow</button>", "キャンセル"},
			{"fr-FR", `<html lang="en">`, "許可"},
		} {
			code, page := getPage(t, authURL(s, tenant, nil), c.lang)
			if code != http.StatusOK || !strings.Contains(page, c.want) || strings.Contains(page, c.not) {
				t.Errorf("%s, %q: %d\n%s", flavor, c.lang, code, page)
			}
		}
		_, page := getPage(t, authURL(s, tenant, nil), "ja")
		for _, want := range []string{"アプリケーション cid が次のアクセスを求めています:", ">許可</button>", ">キャンセル</button>", `value="allow"`, `value="a@example.com"`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the Japanese page lacks %q", flavor, want)
			}
		}
		_, page = getPage(t, authURL(s, tenant, func(q url.Values) { q.Set("client_id", "other") }), "ja")
		if !strings.Contains(page, "<title>ログインエラー</title>") {
			t.Errorf("%s: error page:\n%s", flavor, page)
		}
		// An expired consent form, in Japanese.
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/consent", strings.NewReader("req=gone&decision=allow"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", "ja")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "有効期限が切れました") {
			t.Errorf("%s: expired:\n%s", flavor, b)
		}
		if flavor == provider.Microsoft {
			if _, page := getPage(t, s.URL()+"/devicelogin?otc=ABCD", "ja"); !strings.Contains(page, "<h1>コードの入力</h1>") || !strings.Contains(page, `value="ABCD"`) {
				t.Errorf("device login page:\n%s", page)
			}
		}
		// Browser (no Accept-Language) still signs in through the English page.
		if _, err := (&Browser{}).Authorize(context.Background(), authURL(s, tenant, nil)); err != nil {
			t.Errorf("%s: %v", flavor, err)
		}
	}
}
