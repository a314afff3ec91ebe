package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestEveryScreenOfTheSandbox draws the sandbox console's own screens (its
// options differ from the normal console's: the banner, the Inbox) in
// Japanese and English at 1280 × 800 and 390 px, with the same checks as
// TestEveryScreenInBothLanguagesAndWidths; scripts/screenshots keeps them.
func TestEveryScreenOfTheSandbox(t *testing.T) {
	dir := *screenshots
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c, r := startSandbox(t)
	empty := []screen{{name: "sandbox-inbox-empty", path: "/inbox"}}
	for _, lang := range []string{"ja", "en"} {
		drawScreens(t, c, lang, dir, empty)
	}
	deliverToSandbox(t, c, 3)
	list, _, err := r.Inbox.List(0, 1)
	if err != nil || len(list) == 0 {
		t.Fatalf("nothing in the inbox: %v", err)
	}
	screens := []screen{
		{name: "sandbox-accounts", path: "/accounts"},
		{name: "sandbox-inbox", path: "/inbox"},
		{name: "sandbox-inbox-message", path: "/inbox/" + list[0].ID, setup: func(b *browser) {
			b.do(chromedp.Click("#msg-source-box summary"))
		}},
	}
	for _, lang := range []string{"ja", "en"} {
		drawScreens(t, c, lang, dir, screens)
	}
	// A message whose file was cut short: its line and its page, which
	// name the file by its whole path.
	if err := os.Truncate(filepath.Join(r.Inbox.Dir(), list[0].ID+".msg"), 25); err != nil {
		t.Fatal(err)
	}
	damaged := []screen{
		{name: "sandbox-inbox-damaged", path: "/inbox"},
		{name: "sandbox-inbox-message-damaged", path: "/inbox/" + list[0].ID},
	}
	for _, lang := range []string{"ja", "en"} {
		drawScreens(t, c, lang, dir, damaged)
	}
}

// drawScreens opens each screen in lang at both widths, checks it and
// writes its picture to dir as NAME-LANG-WIDTH.png.
func drawScreens(t *testing.T, c *console, lang, dir string, screens []screen) {
	t.Helper()
	b := newBrowser(t, lang)
	b.open(c)
	for _, width := range []int{1280, 390} {
		b.do(chromedp.EmulateViewport(int64(width), 800))
		for _, s := range screens {
			b.do(chromedp.Navigate(c.srv.BaseURL()+s.path), chromedp.WaitVisible("main#main"))
			if s.setup != nil {
				s.setup(b)
			}
			if !b.visible(".sandbox-banner") {
				t.Errorf("%s (%s): no sandbox banner", s.name, lang)
			}
			if m := missingKey.FindString(b.pageText()); m != "" {
				t.Errorf("%s (%s): text missing from the catalogue: %s", s.name, lang, m)
			}
			if width == 390 {
				if w := evalJS[int](b, `document.documentElement.scrollWidth`); w > 390 {
					t.Errorf("%s (%s) is %d px wide in a 390 px window: it scrolls sideways", s.name, lang, w)
				}
			}
			png := get(b, chromedp.FullScreenshot(100))
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s-%d.png", s.name, lang, width)), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
