package web_test

import (
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	suppressRow = regexp.MustCompile(`<td class="addr" data-label="[^"]*">([^<]*)</td>`)
	nextLink    = regexp.MustCompile(`href="([^"]*)" id="suppress-next"`)
	prevLink    = regexp.MustCompile(`href="([^"]*)" id="suppress-prev"`)
)

func suppressedOnPage(page string) []string {
	var out []string
	for _, m := range suppressRow.FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// Add, refuse, search, page and remove, in Japanese: a malformed address
// is said beside the field naming it, what was typed is kept, a duplicate
// is said to be one.
func TestSuppressionPageHTTP(t *testing.T) {
	c := startConsole(t)
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	ctx := t.Context()
	for i := range 230 {
		if _, err := c.svc.Suppress(ctx, fmt.Sprintf("bulk%03d@example.com", i), "一括"); err != nil {
			t.Fatal(err)
		}
	}

	code, page, at := s.post("/suppression/add", map[string]string{"address": "Taro@Example.JP", "reason": "電話で依頼"}, nil)
	if code != http.StatusOK || at != "/suppression" || !strings.Contains(page, "Taro@Example.JP を配信停止リストに追加しました") || !strings.Contains(page, "登録アドレス: 231 件") {
		t.Fatalf("add: %d %s\n%s", code, at, page)
	}
	_, page, _ = s.post("/suppression/add", map[string]string{"address": "taro@example.jp"}, nil)
	if !strings.Contains(page, "すでに配信停止リストにあります") || !strings.Contains(page, "登録アドレス: 231 件") {
		t.Fatalf("duplicate:\n%s", page)
	}
	code, page, _ = s.post("/suppression/add", map[string]string{"address": "山田 <yamada@example.jp>", "reason": "誤入力"}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-address">メールアドレス: 「山田 &lt;yamada@example.jp&gt;」はアドレスだけになっていません`) ||
		!strings.Contains(page, `value="山田 &lt;yamada@example.jp&gt;"`) || !strings.Contains(page, `value="誤入力"`) || !strings.Contains(page, `aria-invalid="true"`) {
		t.Fatalf("bad address: %d\n%s", code, page)
	}
	if _, page, _ = s.post("/suppression/add", map[string]string{"address": ""}, nil); !strings.Contains(page, "メールアドレス: メールアドレスが空です") {
		t.Fatalf("empty address:\n%s", page)
	}

	// Pages of 100, forwards and back, each address once.
	_, page = s.get("/suppression")
	seen := map[string]bool{}
	first := suppressedOnPage(page)
	for n := 1; ; n++ {
		rows := suppressedOnPage(page)
		if n < 3 && len(rows) != 100 || n == 3 && len(rows) != 31 || n > 3 {
			t.Fatalf("page %d has %d rows", n, len(rows))
		}
		for _, a := range rows {
			if seen[a] {
				t.Fatalf("%s shown twice", a)
			}
			seen[a] = true
		}
		m := nextLink.FindStringSubmatch(page)
		if m == nil {
			break
		}
		_, page = s.get(html.UnescapeString(m[1]))
	}
	if len(seen) != 231 || !seen["Taro@Example.JP"] || !strings.Contains(page, "231 件中 201〜231 件目") {
		t.Fatalf("saw %d addresses", len(seen))
	}
	for range 2 {
		m := prevLink.FindStringSubmatch(page)
		if m == nil {
			t.Fatal("no link to the previous page")
		}
		_, page = s.get(html.UnescapeString(m[1]))
	}
	if got := suppressedOnPage(page); strings.Join(got, " ") != strings.Join(first, " ") || prevLink.MatchString(page) {
		t.Fatal("going back did not end on the first page")
	}

	// Search: a part of the address, any case; the date in local time.
	_, page = s.get("/suppression?q=" + url.QueryEscape("TARO@example"))
	if rows := suppressedOnPage(page); len(rows) != 1 || rows[0] != "Taro@Example.JP" || !strings.Contains(page, "電話で依頼") || !strings.Contains(page, "1 件中 1〜1 件目") {
		t.Fatalf("search:\n%s", page)
	}
	if _, page = s.get("/suppression?q=nobody"); !strings.Contains(page, "「nobody」を含むアドレスはありません") {
		t.Fatal("an empty search result is not said")
	}

	// Remove asks first (the form says what it will do) and keeps the search.
	_, page = s.get("/suppression?q=taro")
	if !strings.Contains(page, `data-confirm="Taro@Example.JP を配信停止リストから削除しますか？`) {
		t.Fatal("remove does not ask first")
	}
	_, page, at = s.post("/suppression/remove", map[string]string{"address": "Taro@Example.JP", "q": "taro"}, nil)
	if !strings.Contains(page, "Taro@Example.JP を配信停止リストから削除しました") || len(suppressedOnPage(page)) != 0 || !strings.Contains(page, "登録アドレス: 230 件") {
		t.Fatalf("remove: %s\n%s", at, page)
	}
	if _, page, _ = s.post("/suppression/remove", map[string]string{"address": "Taro@Example.JP"}, nil); !strings.Contains(page, "配信停止リストにありません") {
		t.Fatal("removing an address not listed is not said")
	}
}

// A change without the page's CSRF token is refused, like every POST.
func TestSuppressionNeedsCSRF(t *testing.T) {
	c := startConsole(t)
	s := c.session()
	s.csrf = "wrong"
	if code, _, _ := s.post("/suppression/add", map[string]string{"address": "x@example.com"}, nil); code != http.StatusForbidden {
		t.Fatalf("add without CSRF: %d", code)
	}
	if n, _ := c.svc.SuppressionCount(t.Context()); n != 0 {
		t.Fatal("added without a CSRF token")
	}
}

// Import a Shift_JIS CSV with a bad row: the file is read as the wizard
// reads lists and kept under the console's folder until imported, then
// removed; the result names the bad row.
func TestSuppressionImportHTTP(t *testing.T) {
	c := startConsole(t)
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	if _, err := c.svc.Suppress(t.Context(), "member003@example.jp", "前から"); err != nil {
		t.Fatal(err)
	}
	if code, page, _ := s.post("/suppression/import", nil, nil); code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-list"`) {
		t.Fatalf("no file: %d\n%s", code, page)
	}
	list := sjisList(t, 5, map[int]string{4: "not-an-address"})
	code, page, at := s.post("/suppression/import", nil, map[string]map[string][]byte{"list": {"停止.csv": list}})
	m := regexp.MustCompile(`^/suppression/import/([A-Za-z0-9_-]+)$`).FindStringSubmatch(at)
	if code != http.StatusOK || m == nil {
		t.Fatalf("upload: %d %s\n%s", code, at, page)
	}
	kept := filepath.Join(c.home, "console", "drafts", m[1], "list", "停止.csv")
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("the upload is not kept in the console's folder: %v", err)
	}
	for _, want := range []string{"Shift_JIS", `<code class="col col-email">email</code>`, `id="count-valid">3<`, `id="count-suppressed">1<`, "not-an-address"} {
		if !strings.Contains(page, want) {
			t.Errorf("the review lacks %q\n%s", want, page)
		}
	}
	// Another column chosen, then back to email.
	if _, page, _ = s.post(at+"/options", map[string]string{"email_column": "氏名", "encoding": "auto"}, nil); !strings.Contains(page, `<code class="col col-email">氏名</code>`) {
		t.Fatal("the column chosen is not used")
	}
	s.post(at+"/options", map[string]string{"email_column": "email", "encoding": "shift_jis"}, nil)
	code, page, done := s.post(at, map[string]string{"reason": "10 月の不達"}, nil)
	if code != http.StatusOK || done != at+"/result" {
		t.Fatalf("import: %d at %s\n%s", code, done, page)
	}
	for _, want := range []string{`id="result-added">3<`, `id="result-already">1<`, `id="result-rejected">1<`,
		`<td class="num" data-label="行">4</td><td data-label="問題">「not-an-address」はメールアドレスの形式ではありません</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the result lacks %q\n%s", want, page)
		}
	}
	if _, err := os.Stat(filepath.Dir(kept)); !os.IsNotExist(err) {
		t.Errorf("the upload was not removed after the import: %v", err)
	}
	// A reload shows the result again; so does the review's address.
	for _, p := range []string{done, at} {
		if code, again := s.get(p); code != http.StatusOK || !strings.Contains(again, `id="result-added">3<`) || !strings.Contains(again, "not-an-address") {
			t.Errorf("%s after the import: %d\n%s", p, code, again)
		}
	}
	_, page = s.get("/suppression?q=member002")
	if !strings.Contains(page, "10 月の不達") {
		t.Error("the reason was not kept")
	}
	// Sent again (the browser's resend): not imported twice, the result shown.
	if code, page, at2 := s.post(at, nil, nil); code != http.StatusOK || at2 != done || !strings.Contains(page, `id="result-added">3<`) {
		t.Fatalf("a second import of the same upload: %d at %s", code, at2)
	}
	// Cancelled, it is over.
	s.post(at+"/cancel", nil, nil)
	if code, page := s.get(done); code != http.StatusNotFound || !strings.Contains(page, "この取り込みは終了しています") {
		t.Fatalf("after cancel: %d", code)
	}
	// A delivery draft's address is not an import, nor the other way round.
	if code, _ := s.get("/drafts/" + m[1] + "/list"); code != http.StatusNotFound {
		t.Fatalf("an import seen as a delivery draft: %d", code)
	}
}

// Cancel removes the upload.
func TestSuppressionImportCancel(t *testing.T) {
	c := startConsole(t)
	s := c.session()
	_, _, at := s.post("/suppression/import", nil, map[string]map[string][]byte{"list": {"a.csv": []byte("email\na@example.com\n")}})
	dir := filepath.Join(c.home, "console", "drafts", filepath.Base(at))
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	if _, page, _ := s.post(at+"/cancel", nil, nil); !strings.Contains(page, "The import was cancelled") {
		t.Fatal("cancel is not said")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("the upload was kept after cancel")
	}
	if n, _ := c.svc.SuppressionCount(t.Context()); n != 0 {
		t.Fatal("cancel imported")
	}
}

// The export: a byte-order mark for Excel, every entry, formulas as text.
func TestSuppressionExportHTTP(t *testing.T) {
	c := startConsole(t)
	s := c.session()
	c.svc.Suppress(t.Context(), "b@example.com", "@SUM(1+1)")
	c.svc.Suppress(t.Context(), "a@example.com", "配信停止")
	resp, err := s.hc.Get(c.srv.BaseURL() + "/suppression/export.csv")
	if err != nil {
		t.Fatal(err)
	}
	raw := body(t, resp)
	if resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") || !strings.HasPrefix(raw, "\ufeff") {
		t.Fatalf("headers %v, start %q", resp.Header, raw[:min(10, len(raw))])
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, "\ufeff"))).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][0] != "a@example.com" || recs[1][1] != "配信停止" || recs[2][1] != "'@SUM(1+1)" {
		t.Fatalf("export: %v %q", err, recs)
	}
}

// A file of one address per line has no header row: the review says so
// and counts every line, instead of naming a column after the first
// address; the import takes them all, a single address included.
func TestSuppressionImportPlainList(t *testing.T) {
	c := startConsole(t)
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	plain := "first@example.jp\nsecond@example.jp\n# 10 月の不達\n\nnot-an-address\nthird@example.jp\n"
	code, page, at := s.post("/suppression/import", nil, map[string]map[string][]byte{"list": {"停止.txt": []byte(plain)}})
	if code != http.StatusOK || !strings.HasPrefix(at, "/suppression/import/") {
		t.Fatalf("upload: %d %s\n%s", code, at, page)
	}
	for _, want := range []string{"見出し行がありません", `id="plain-addresses">メールアドレス 3 件<`, "メールアドレスでない行 1 行",
		"<li><code>first@example.jp</code></li>", `<td class="num" data-label="行">5</td>`} {
		if !strings.Contains(page, want) {
			t.Errorf("the review lacks %q", want)
		}
	}
	if strings.Contains(page, `<code class="col col-email">first@example.jp</code>`) || strings.Contains(page, "disabled>") {
		t.Errorf("the first address is taken for a column, or the import is not offered:\n%s", page)
	}
	code, page, _ = s.post(at, map[string]string{"reason": "手作業"}, nil)
	if code != http.StatusOK || !strings.Contains(page, `id="result-added">3<`) || !strings.Contains(page, `id="result-rejected">1<`) {
		t.Fatalf("import: %d\n%s", code, page)
	}
	if n, _ := c.svc.SuppressionCount(t.Context()); n != 3 {
		t.Fatalf("%d suppressed", n)
	}

	// One address alone: a table would have a header and no rows.
	code, page, at = s.post("/suppression/import", nil, map[string]map[string][]byte{"list": {"one.txt": []byte("only@example.jp\n")}})
	if code != http.StatusOK || !strings.Contains(page, `id="plain-addresses">メールアドレス 1 件<`) {
		t.Fatalf("one address: %d at %s\n%s", code, at, page)
	}
	if _, page, _ = s.post(at, nil, nil); !strings.Contains(page, `id="result-added">1<`) {
		t.Fatalf("one address imported:\n%s", page)
	}
}

// An address too long for RFC 5321 (a local part over 64, an address over
// 254) is refused beside the field in the page's language, naming it and
// why; an import names its line and says why, and adds the others.
func TestSuppressionRefusesAnAddressTooLongToBeOne(t *testing.T) {
	c := startConsole(t)
	long := strings.Repeat("a", 65) + "@example.jp"
	longer := "bbbbbbbbb@" + strings.Repeat("d", 60) + "." + strings.Repeat("e", 60) + "." + strings.Repeat("f", 60) + "." + strings.Repeat("g", 60) + ".jp" // 256
	for lang, want := range map[string][2]string{
		"en": {"Email address: “" + long + "”: the part before the @ is longer than 64 characters, which mail servers refuse; check the address",
			"“" + longer + "” is longer than 254 characters, which mail servers refuse; check the address"},
		"ja": {"メールアドレス: 「" + long + "」は @ の前が 64 文字を超えていて、メールサーバーが受け付けません。アドレスを確かめてください",
			"「" + longer + "」は 254 文字を超えていて、メールサーバーが受け付けません。アドレスを確かめてください"},
	} {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		code, page, _ := s.post("/suppression/add", map[string]string{"address": long}, nil)
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, `id="err-address">`+want[0]+`</span>`) || !strings.Contains(page, `value="`+long+`"`) {
			t.Errorf("%s: add: %d, want 422 saying %q beside the field\n%s", lang, code, want[0], page)
		}
		_, page, at := s.post("/suppression/import", nil, map[string]map[string][]byte{"list": {"bounces.txt": []byte("ok@example.jp\n" + longer + "\n")}})
		line2 := regexp.MustCompile(`<td class="num" data-label="[^"]*">2</td>`)
		if !line2.MatchString(page) || !strings.Contains(page, want[1]) {
			t.Errorf("%s: the review does not name line 2 and why (%q)\n%s", lang, want[1], page)
		}
		code, page, _ = s.post(at, nil, nil)
		if code != http.StatusOK || !strings.Contains(page, `id="result-rejected">1<`) || !line2.MatchString(page) || !strings.Contains(page, want[1]) {
			t.Errorf("%s: import: %d, want line 2 refused saying %q\n%s", lang, code, want[1], page)
		}
	}
	if n, _ := c.svc.SuppressionCount(t.Context()); n != 1 {
		t.Errorf("%d addresses on the list, want 1 (ok@example.jp)", n)
	}
}
