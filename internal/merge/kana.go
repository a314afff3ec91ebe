package merge

import (
	"strings"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// widenKana turns half-width katakana (U+FF61–FF9F) into full-width, with
// the voiced marks joined (ｶﾞ → ガ). ISO-2022-JP as mail uses it (RFC
// 1468) has no half-width katakana: the JIS X 0201 escape some encoders
// emit for them is shown as garbage by many readers.
func widenKana(s string) string {
	if !strings.ContainsFunc(s, isHalfKana) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == 0xFF9E:
			b.WriteRune(0x3099) // combining voiced mark, joined by NFC below
		case r == 0xFF9F:
			b.WriteRune(0x309A)
		case isHalfKana(r):
			b.WriteString(width.Widen.String(string(r)))
		default:
			b.WriteRune(r)
		}
	}
	return norm.NFC.String(b.String())
}

func isHalfKana(r rune) bool { return r >= 0xFF61 && r <= 0xFF9F }
