package saved

import (
	"strings"
	"testing"
)

// A new saved delivery's name goes on a cron line as it is and names a
// folder on Windows: what CheckName lets through needs no quoting there,
// and what its message promises (Japanese letters) it takes.
func TestCheckNameTakesWhatACronLineTakes(t *testing.T) {
	for _, ok := range []string{"news", "月次ニュース", "news-2026_12", "a", strings.Repeat("x", MaxNameLen), "ガ"} {
		if err := CheckName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "_x", "x;rm -rf ~", "a b", "a.b", "a/b", "$(id)", "x&y", "a'b", "CON", "nul", "Lpt1",
		strings.Repeat("x", MaxNameLen+1), "a\tb", "\xff"} {
		err := CheckName(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
			continue
		}
		if !strings.Contains(err.Error(), "saved delivery name") {
			t.Errorf("%q: %v does not say what it checks", bad, err)
		}
	}
}
