package transport

import (
	"strconv"
	"strings"
	"testing"
)

// isEnhanced reads every reply's first word without making a slice; what
// it takes for an enhanced status code must not change.
func TestIsEnhancedTakesWhatItTookBefore(t *testing.T) {
	before := func(s string) bool {
		parts := strings.Split(s, ".")
		if len(parts) != 3 {
			return false
		}
		for _, p := range parts {
			if _, err := strconv.Atoi(p); err != nil || p == "" {
				return false
			}
		}
		return true
	}
	for _, s := range []string{"2.0.0", "5.7.139", "4.4.2", "2.0", "2.0.0.0", "", ".", "..", "...", "a.b.c",
		"+2.0.0", "2..0", "2.0.", ".0.0", "OK", "250", "2.0.0x", "2.0.0 ", "99999999999999999999.0.0", "-1.-2.-3"} {
		if got, want := isEnhanced(s), before(s); got != want {
			t.Errorf("isEnhanced(%q) = %v, before %v", s, got, want)
		}
	}
	if got := testing.AllocsPerRun(100, func() { isEnhanced("2.0.0") }); got != 0 {
		t.Errorf("isEnhanced allocates %v times a reply, want 0", got)
	}
}
