package schedule

import (
	"strings"
	"testing"
)

// The one rule of a new schedule's name, as its message says it.
func TestCheckNameIsWhatItsMessageSays(t *testing.T) {
	for _, ok := range []string{"weekly-news", "news_2026", "朝の配信", "月例のお知らせ-2", "か\u3099", "Ａ１", strings.Repeat("あ", MaxNameLen)} {
		if err := CheckName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", " ", "a b", "a/b", `a\b`, "<script>x", "news.weekly", "a@b", "-x", "_x", "朝の配信!", "朝　配信", "tab\x01",
		"\u3099か", strings.Repeat("a", MaxNameLen+1), "\xff"} {
		err := CheckName(bad)
		if err == nil || !strings.Contains(err.Error(), "letters (Japanese too), digits, '-' or '_'") {
			t.Errorf("%q: %v, want refused saying what to use", bad, err)
		}
	}
	if n := "keepalive-" + NameFrom("news.team+jp@example.com"); CheckName(n) != nil || n != "keepalive-news-team-jp-example-com" {
		t.Errorf("NameFrom: %q", n)
	}
}
