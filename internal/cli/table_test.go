package cli

import (
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

// Columns line up on a terminal, where a kanji takes two columns.
func TestTableAlignsJapanese(t *testing.T) {
	var b strings.Builder
	tb := newTable(&b, "NAME", "SUBJECT", "SENT")
	tb.Row("営業部", "秋のお知らせ", 12)
	tb.Row("sales", "News\tletter\x1b[31m", 3)
	if err := tb.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{
		"NAME    SUBJECT           SENT",
		"営業部  秋のお知らせ      12",
		"sales   News letter [31m  3",
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], want[i])
		}
	}
	// The last column starts at the same display column on every line.
	for _, l := range lines {
		if i := strings.LastIndex(l, "  "); runewidth.StringWidth(l[:i+2]) != runewidth.StringWidth(lines[0][:strings.Index(lines[0], "SENT")]) {
			t.Errorf("%q: last column at %d", l, runewidth.StringWidth(l[:i+2]))
		}
	}
}
