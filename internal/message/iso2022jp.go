package message

import (
	"fmt"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// CharsetError says which character of which field ISO-2022-JP cannot carry.
type CharsetError struct {
	Field string // "Subject", "Text", "HTML", "From name", "To #2 name", "Header X-Foo"
	Char  rune
	Pos   int // 1-based character position in the field
	Line  int // 1-based line (bodies), 0 for one-line fields
	Col   int // 1-based column in Line
}

func (e *CharsetError) Error() string {
	where := fmt.Sprintf("character %d", e.Pos)
	if e.Line > 0 {
		where = fmt.Sprintf("line %d, column %d", e.Line, e.Col)
	}
	return fmt.Sprintf("%s, %s: %q (U+%04X) cannot be written in ISO-2022-JP; replace it, or send as UTF-8 (--charset utf-8, or allow the UTF-8 fallback)",
		e.Field, where, e.Char, e.Char)
}

// charsetError locates the character at byte offset off of s.
func charsetError(field, s string, off int, multiline bool) *CharsetError {
	pos, line, col := 0, 1, 0
	for _, r := range s[:off] {
		pos++
		col++
		if r == '\n' {
			line++
			col = 0
		}
	}
	r, _ := utf8.DecodeRuneInString(s[off:])
	e := &CharsetError{Field: field, Char: r, Pos: pos + 1}
	if multiline {
		e.Line, e.Col = line, col+1
	}
	return e
}

// inJISX0208 reports whether row (the first byte of a code) is one JIS X
// 0208 defines. x/text also writes Microsoft's additions in the same
// escape — NEC's row 13 (①, ㈱, №…) and the IBM rows 89–92 (髙, 﨑…) — which
// RFC 1468 does not allow: Python's email, and readers that follow the
// standard, cannot decode them. A message holding one of those characters
// goes as UTF-8 instead (FallbackUTF8), which every reader decodes.
func inJISX0208(row byte) bool { return row <= 0x28 || 0x30 <= row && row <= 0x74 }

func isHalfwidthKatakana(r rune) bool { return 0xff61 <= r && r <= 0xff9f }

// jisTable maps a BMP rune to its JIS X 0208 code (two bytes 0x21–0x7E),
// 0 when ISO-2022-JP (RFC 1468: ASCII + JIS X 0208) cannot carry it. It is
// built once, from x/text's encoder, so the encoding is exactly the one
// x/text (the WHATWG encoder, like Windows) writes; the per-message path is
// then a table lookup rather than an encoder call per character.
type jisTable struct {
	code [0x10000]uint16
	// Half-width katakana U+FF61–FF9F widened, with the voiced and
	// semi-voiced forms a following ﾞ or ﾟ joins into (0: none in JIS).
	wide, voiced, semi [0x3f]rune
}

var jisOnce = sync.OnceValue(func() *jisTable {
	t := new(jisTable)
	enc := japanese.ISO2022JP.NewEncoder()
	var src [4]byte
	var dst [16]byte
	for r := rune(0x80); r < 0x10000; r++ {
		if 0xd800 <= r && r < 0xe000 {
			continue
		}
		enc.Reset()
		n := utf8.EncodeRune(src[:], r)
		nd, _, err := enc.Transform(dst[:], src[:n], true)
		// Only ESC $ B + two bytes + ESC ( B: x/text writes half-width
		// katakana with ESC ( I, which RFC 1468 does not allow and many
		// readers garble; they are widened instead (see widen).
		if err == nil && nd == 8 && string(dst[:3]) == "\x1b$B" && inJISX0208(dst[3]) {
			t.code[r] = uint16(dst[3])<<8 | uint16(dst[4])
		}
	}
	// Characters Macs and Windows spell differently for the same JIS X
	// 0208 code: a wave dash typed on a Mac (U+301C) is JIS 0x2141 all the
	// same as Windows' U+FF5E. The reader's decoder shows its own spelling.
	for from, to := range map[rune]rune{
		0x301C: 0xFF5E, // WAVE DASH → FULLWIDTH TILDE (0x2141)
		0x2212: 0xFF0D, // MINUS SIGN → FULLWIDTH HYPHEN-MINUS (0x215D)
		0x2016: 0x2225, // DOUBLE VERTICAL LINE → PARALLEL TO (0x2142)
		0x2014: 0x2015, // EM DASH → HORIZONTAL BAR (0x213D)
		0x00A2: 0xFFE0, // CENT SIGN (0x2171)
		0x00A3: 0xFFE1, // POUND SIGN (0x2172)
		0x00AC: 0xFFE2, // NOT SIGN (0x224C)
	} {
		if t.code[from] == 0 {
			t.code[from] = t.code[to]
		}
	}
	for r := rune(0xff61); r <= 0xff9f; r++ {
		w := []rune(width.Widen.String(string(r)))[0]
		switch r {
		case 0xff9e, 0xff9f: // alone (Widen gives the combining marks): the spacing ゛ ゜
			w = r - 0xff9e + 0x309b
		}
		t.wide[r-0xff61] = w
		for mark, out := range map[rune]*rune{0x3099: &t.voiced[r-0xff61], 0x309a: &t.semi[r-0xff61]} {
			if c := []rune(norm.NFC.String(string(w) + string(mark))); len(c) == 1 && c[0] < 0x10000 && t.code[c[0]] != 0 {
				*out = c[0]
			}
		}
	}
	return t
})

// widen returns the full-width form of the half-width katakana at the start
// of s and how many bytes of s it stands for (ｶﾞ → ガ: both runes).
// ISO-2022-JP as mail uses it has no half-width katakana: Japanese users
// expect them widened, not refused.
func (t *jisTable) widen(s string) (rune, int) {
	r, n := utf8.DecodeRuneInString(s)
	i := r - 0xff61
	if len(s) >= n+3 && s[n] == 0xef && s[n+1] == 0xbe && (s[n+2] == 0x9e || s[n+2] == 0x9f) { // ﾞ U+FF9E, ﾟ U+FF9F
		joined := t.voiced[i]
		if s[n+2] == 0x9f {
			joined = t.semi[i]
		}
		if joined != 0 {
			return joined, n + 3
		}
	}
	return t.wide[i], n
}

// appendJIS appends s converted to ISO-2022-JP; the result ends in ASCII
// (RFC 1468), and so does every line, since the encoder switches back
// before any ASCII byte, CR and LF included. With crlf set, lone LF and CR
// become CRLF. It returns the byte offset in s of the first character
// ISO-2022-JP cannot carry, or -1 (dst then holds a partial conversion).
func appendJIS(dst []byte, s string, crlf bool) ([]byte, int) {
	t := jisOnce()
	jis := false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jis {
				dst = append(dst, "\x1b(B"...)
				jis = false
			}
			switch {
			case !crlf:
				dst = append(dst, c)
			case c == '\n' && (i == 0 || s[i-1] != '\r'):
				dst = append(dst, '\r', '\n')
			case c == '\r' && (i+1 == len(s) || s[i+1] != '\n'):
				dst = append(dst, '\r', '\n')
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		var code uint16
		if isHalfwidthKatakana(r) {
			var w rune
			w, n = t.widen(s[i:])
			code = t.code[w]
		} else if r < 0x10000 && r != utf8.RuneError {
			code = t.code[r]
		}
		if code == 0 {
			return dst, i
		}
		if !jis {
			dst = append(dst, "\x1b$B"...)
			jis = true
		}
		dst = append(dst, byte(code>>8), byte(code))
		i += n
	}
	if jis {
		dst = append(dst, "\x1b(B"...)
	}
	return dst, -1
}

// jisStrict reports whether s goes into ISO-2022-JP unchanged, half-width
// katakana not widened: for file names, whose ISO-2022-JP name= must decode
// to the same name as their UTF-8 filename*.
func jisStrict(s string) bool {
	t := jisOnce()
	for _, r := range s {
		if r >= utf8.RuneSelf && (r >= 0x10000 || t.code[r] == 0) {
			return false
		}
	}
	return true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// jisWords writes value as B-encoded ISO-2022-JP words. Each word is a
// complete ISO-2022-JP sequence that ends in ASCII (RFC 1468), so a reader
// can decode every word on its own.
func (b *builder) jisWords(f *field, ref fieldRef, value string) {
	const prefix, suffix = "=?ISO-2022-JP?B?", "?="
	rest := value
	for rest != "" {
		room := f.room()
		if room < len(prefix)+len(suffix)+12 {
			room = maxLine - 2
		}
		maxRaw := (room - len(prefix) - len(suffix)) / 4 * 3
		// Count the JIS bytes rune by rune: ASCII is 1 byte, JIS X 0208 is
		// 2; each switch costs an escape of 3; a word in JIS mode ends with
		// ESC ( B. A half-width katakana stays with its ﾞ or ﾟ.
		n, size, jis := 0, 0, false
		for n < len(rest) {
			r, w := utf8.DecodeRuneInString(rest[n:])
			if isHalfwidthKatakana(r) && len(rest) >= n+w+3 && rest[n+w] == 0xef && rest[n+w+1] == 0xbe && (rest[n+w+2] == 0x9e || rest[n+w+2] == 0x9f) {
				w += 3
			}
			add := 1
			nowJIS := r >= utf8.RuneSelf
			if nowJIS {
				add = 2
			}
			if nowJIS != jis {
				add += 3
			}
			end := 0
			if nowJIS {
				end = 3
			}
			if size+add+end > maxRaw && n > 0 {
				break
			}
			size += add
			jis = nowJIS
			n += w
		}
		raw, bad := appendJIS(b.scratch[:0], rest[:n], false)
		if bad >= 0 {
			b.fail(charsetError(ref.String(), value, len(value)-len(rest)+bad, false))
			return
		}
		f.word(prefix, raw, suffix)
		rest = rest[n:]
	}
}
