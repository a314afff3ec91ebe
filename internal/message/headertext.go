package message

import (
	"fmt"
	"unicode/utf8"
)

// HeaderTextError: a value meant for a header (a From name from an
// account's settings, an extra header) holds a character no header may
// carry. Such values are refused, not cleaned: a CR or LF there is either
// a mistake or an attempt to add header lines of one's own.
type HeaderTextError struct {
	Field string // "From name", "To #1 name", "header X-Note"
	Char  rune   // utf8.RuneError for invalid UTF-8
	Pos   int    // 1-based character position
}

func (e *HeaderTextError) Error() string {
	what := fmt.Sprintf("a control character (U+%04X%s)", e.Char, controlName(e.Char))
	if e.Char == utf8.RuneError {
		what = "bytes that are not UTF-8 text"
	}
	return fmt.Sprintf("%s: character %d is %s; a header value cannot hold line breaks or other control characters", e.Field, e.Pos, what)
}

func controlName(r rune) string {
	switch r {
	case '\r':
		return ", carriage return"
	case '\n':
		return ", line feed"
	case 0:
		return ", NUL"
	case '\t':
		return ", tab"
	case 0x1b:
		return ", escape"
	}
	return ""
}

// CheckHeaderText returns a *HeaderTextError naming field when value holds
// a control character (C0, DEL or C1, tab included) or is not valid UTF-8.
func CheckHeaderText(field, value string) error {
	pos := 0
	for i, r := range value {
		pos++
		if r < ' ' || r == 0x7f || 0x80 <= r && r < 0xa0 || r == utf8.RuneError && !validRuneAt(value, i) {
			return &HeaderTextError{Field: field, Char: r, Pos: pos}
		}
	}
	return nil
}

// validRuneAt: value holds a real U+FFFD at i, not an invalid byte.
func validRuneAt(value string, i int) bool {
	_, size := utf8.DecodeRuneInString(value[i:])
	return size == 3
}
