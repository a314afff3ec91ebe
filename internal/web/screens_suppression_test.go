package web_test

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/chromedp/chromedp"
)

// suppressionScreens seeds the do-not-mail list (130 addresses, Japanese
// reasons, one long address), an import waiting for its sheet and column
// (an Excel list with a bad row), and lists the screens: the list, a
// search, a refused address, the import's review (a table, and a plain
// list without a header row) and its result.
func suppressionScreens(t *testing.T, c *console, ms *standIn) []screen {
	t.Helper()
	ctx := t.Context()
	reasons := []string{"配信停止の依頼（Web フォーム）", "宛先不明で不達（550 5.1.1）", "電話で依頼", ""}
	for i := range 130 {
		if _, err := c.svc.Suppress(ctx, fmt.Sprintf("kaiin%03d@example.co.jp", i), reasons[i%len(reasons)]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.svc.Suppress(ctx, "a.very.long.address.of.the.sales.department.kansai.branch@subsidiary.example.co.jp",
		"退職のため（人事部より 2026年11月30日 連絡）"); err != nil {
		t.Fatal(err)
	}
	book := unsubscribeWorkbook(t, 20, 7)
	s := c.session()
	_, _, at := s.post("/suppression/import", nil, map[string]map[string][]byte{"list": {"配信停止依頼.xlsx": suppReadFile(t, book)}})
	if !regexp.MustCompile(`^/suppression/import/[A-Za-z0-9_-]+$`).MatchString(at) {
		t.Fatalf("seeding an import: at %s", at)
	}
	s.post(at+"/options", map[string]string{"sheet": "配信停止"}, nil)
	_, _, plainAt := s.post("/suppression/import", nil, map[string]map[string][]byte{"list": {"不達アドレス.txt": []byte(
		"bounce01@example.co.jp\nbounce02@example.co.jp\n# 11 月の不達\nbounce03@example.co.jp\n山田 太郎\na.very.long.address.of.the.sales.department.kansai.branch@subsidiary.example.co.jp\n")}})
	return []screen{
		{name: "suppression-import-plain", path: plainAt},
		{name: "suppression", path: "/suppression"},
		{name: "suppression-search", path: "/suppression?q=kaiin01"},
		{name: "suppression-refused", path: "/suppression", setup: func(b *browser) {
			b.fill("#address", "山田 花子 <hanako@example.jp>")
			b.submit("#add-button")
		}},
		{name: "suppression-import", path: at},
		// The result: a fresh upload each time, imported from its second sheet.
		{name: "suppression-import-result", path: "/suppression", setup: func(b *browser) {
			b.do(chromedp.SetUploadFiles("#list", []string{book}))
			b.submit("#import-upload")
			b.do(chromedp.SetValue("#sheet", "配信停止"))
			b.submit("#list-apply")
			b.fill("#reason", "11月の配信停止依頼")
			b.submit("#import-run")
		}},
	}
}

func suppReadFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
