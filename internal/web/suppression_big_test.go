package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// 100,000 addresses through the console: uploaded and read, imported,
// then paged and searched. The pages are keyset pages, so the last page
// costs what the first does; the figures are logged for the notes.
func TestSuppressionHundredThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 addresses")
	}
	const n = 100_000
	c := startConsole(t)
	s := c.session()
	var b strings.Builder
	b.WriteString("氏名,email\n")
	for i := range n {
		fmt.Fprintf(&b, "会員 %d,member%06d@example.jp\n", i, i)
	}
	start := time.Now()
	code, page, at := s.post("/suppression/import", nil, map[string]map[string][]byte{"list": {"全員.csv": []byte(b.String())}})
	read := time.Since(start)
	if code != http.StatusOK || !strings.Contains(page, fmt.Sprintf(`id="count-valid">%s<`, "100,000")) {
		t.Fatalf("upload: %d %s", code, at)
	}
	start = time.Now()
	code, page, _ = s.post(at, map[string]string{"reason": "一括"}, nil)
	imported := time.Since(start)
	if code != http.StatusOK || !strings.Contains(page, `id="result-added">100,000<`) {
		t.Fatalf("import: %d", code)
	}
	timed := func(path string) (string, time.Duration) {
		start := time.Now()
		code, page := s.get(path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", path, code)
		}
		return page, time.Since(start)
	}
	_, first := timed("/suppression")
	last, lastTook := timed("/suppression?before=" + url.QueryEscape("member099999@example.jq"))
	if !strings.Contains(last, "99,901–100,000 of 100,000") || !strings.Contains(last, "member099999@example.jp") {
		t.Fatal("the last page is not addresses 99,901 to 100,000")
	}
	found, searchTook := timed("/suppression?q=" + url.QueryEscape("MEMBER09999"))
	if !strings.Contains(found, "1–10 of 10") {
		t.Fatal("search: not 10 found")
	}
	t.Logf("100,000 addresses: upload and read %v, import %v; first page %v, last page %v, search %v",
		read.Round(time.Millisecond), imported.Round(time.Millisecond), first.Round(time.Millisecond),
		lastTook.Round(time.Millisecond), searchTook.Round(time.Millisecond))
	for what, d := range map[string]time.Duration{"first page": first, "last page": lastTook, "search": searchTook} {
		if d > 10*time.Second { // generous: -race on a shared machine is ten times slower
			t.Errorf("the %s took %v", what, d)
		}
	}
}
