package message

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
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
	hint := ""
	if isHalfwidthKatakana(e.Char) {
		hint = " (half-width katakana: use full-width katakana)"
	}
	return fmt.Sprintf("%s, %s: %q (U+%04X) cannot be written in ISO-2022-JP%s; replace it, or send as UTF-8 (--charset utf-8, or allow the UTF-8 fallback)",
		e.Field, where, e.Char, e.Char, hint)
}

// isHalfwidthKatakana: x/text writes these with ESC ( I (JIS X 0201
// katakana), which RFC 1468 does not allow and many mail clients garble.
func isHalfwidthKatakana(r rune) bool { return 0xff61 <= r && r <= 0xff9f }

func (m *Message) checkISO2022JP() error {
	check := func(field, s string, multiline bool) error {
		if isASCII(s) {
			return nil
		}
		return findUnencodable(field, s, multiline)
	}
	if err := check("From name", m.From.Name, false); err != nil {
		return err
	}
	for i, a := range m.To {
		if err := check(fmt.Sprintf("To #%d name", i+1), a.Name, false); err != nil {
			return err
		}
	}
	if err := check("Subject", m.Subject, false); err != nil {
		return err
	}
	if err := check("Text", m.Text, true); err != nil {
		return err
	}
	if err := check("HTML", m.HTML, true); err != nil {
		return err
	}
	for k, v := range m.Headers {
		if err := check("Header "+k, v, false); err != nil {
			return err
		}
	}
	// Attachment names go out as UTF-8 in filename* (the only RFC 2231
	// charset every reader decodes) and as ISO-2022-JP in name= when they
	// fit; a name that does not fit falls back to UTF-8 there too.
	return nil
}

// findUnencodable returns a *CharsetError for the first character of s that
// ISO-2022-JP (RFC 1468: ASCII + JIS X 0208) cannot carry, or nil.
func findUnencodable(field, s string, multiline bool) error {
	enc := japanese.ISO2022JP.NewEncoder()
	var buf [16]byte
	pos, line, col := 0, 1, 0
	for _, r := range s {
		pos++
		col++
		if r == '\n' {
			line++
			col = 0
			continue
		}
		if r < utf8.RuneSelf {
			continue
		}
		r0 := r
		r = jisVariant(r)
		bad := r == utf8.RuneError || isHalfwidthKatakana(r)
		if !bad {
			enc.Reset()
			n := utf8.EncodeRune(buf[8:], r)
			_, _, err := enc.Transform(buf[:8], buf[8:8+n], true)
			bad = err != nil
		}
		if bad {
			e := &CharsetError{Field: field, Char: r0, Pos: pos}
			if multiline {
				e.Line, e.Col = line, col
			}
			return e
		}
	}
	return nil
}

// jisVariant maps the characters that Macs and Windows spell differently
// for the same JIS X 0208 code to the spelling x/text (WHATWG, like Windows)
// encodes: a wave dash typed on a Mac (U+301C) is JIS 0x2141 all the same.
// The reader's decoder then shows its own spelling of that JIS character.
func jisVariant(r rune) rune {
	switch r {
	case 0x301C: // WAVE DASH → FULLWIDTH TILDE (JIS 0x2141)
		return 0xFF5E
	case 0x2212: // MINUS SIGN → FULLWIDTH HYPHEN-MINUS (0x215D)
		return 0xFF0D
	case 0x2016: // DOUBLE VERTICAL LINE → PARALLEL TO (0x2142)
		return 0x2225
	case 0x2014: // EM DASH → HORIZONTAL BAR (0x213D)
		return 0x2015
	case 0x00A2: // CENT SIGN (0x2171)
		return 0xFFE0
	case 0x00A3: // POUND SIGN (0x2172)
		return 0xFFE1
	case 0x00AC: // NOT SIGN (0x224C)
		return 0xFFE2
	}
	return r
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// toJIS converts s (already checked) to ISO-2022-JP; every line ends in
// ASCII because x/text switches back before any ASCII byte, CR/LF included.
func toJIS(s string) string {
	out, err := japanese.ISO2022JP.NewEncoder().String(strings.Map(jisVariant, s))
	if err != nil {
		// checkISO2022JP ran first; reaching this is a bug, not bad input.
		panic(fmt.Sprintf("message: ISO-2022-JP conversion after check: %v", err))
	}
	return out
}

// jisWords writes value as B-encoded ISO-2022-JP words. Each word is a
// complete ISO-2022-JP sequence that ends in ASCII (RFC 1468), so a reader
// can decode every word on its own.
func (b *builder) jisWords(f *field, value string) {
	const prefix, suffix = "=?ISO-2022-JP?B?", "?="
	for value != "" {
		room := f.room()
		if room < len(prefix)+len(suffix)+12 {
			room = maxLine - 2
		}
		maxRaw := (room - len(prefix) - len(suffix)) / 4 * 3
		// Count the JIS bytes rune by rune: ASCII is 1 byte, JIS X 0208 is
		// 2; each switch costs an escape of 3; a word in JIS mode ends with
		// ESC ( B.
		n, size, jis := 0, 0, false
		for n < len(value) {
			r, w := utf8.DecodeRuneInString(value[n:])
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
		b.scratch = append(b.scratch[:0], prefix...)
		b.scratch = base64.StdEncoding.AppendEncode(b.scratch, []byte(toJIS(value[:n])))
		b.scratch = append(b.scratch, suffix...)
		f.token(string(b.scratch))
		value = value[n:]
	}
}
