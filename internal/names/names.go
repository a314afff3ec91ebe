// Package names holds the rule for names a person gives to things that
// later appear on a command line (saved deliveries, schedules).
package names

import (
	"unicode"
	"unicode/utf8"
)

// Plain reports whether name is 1 to max letters (of any script: 朝の配信),
// digits, '-' or '_', starting with a letter or digit: a name that needs
// no quoting on a command line (a ';', '&' or '$' would run something
// else; a leading '-' would read as a flag) and reads the same in a log
// line, a URL and a folder name.
func Plain(name string, max int) bool {
	if name == "" || utf8.RuneCountInString(name) > max || !utf8.ValidString(name) {
		return false
	}
	for i, r := range name {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case i > 0 && (r == '-' || r == '_' || unicode.Is(unicode.M, r)): // a mark: Japanese written decomposed (か + ゙)
		default:
			return false
		}
	}
	return true
}
