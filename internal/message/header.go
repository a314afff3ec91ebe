package message

import (
	"encoding/base64"
	"unicode/utf8"
)

// maxLine is where header lines are folded (RFC 5322 recommends 78; 76
// matches RFC 2047's limit for lines holding encoded words).
const maxLine = 76

// field writes header fields, folding between tokens so that no line passes
// maxLine unless one token alone is longer.
type field struct {
	b   *builder
	col int
}

func (b *builder) startField(name string) field {
	b.buf.WriteString(name)
	b.buf.WriteString(":")
	return field{b: b, col: len(name) + 1}
}

// token writes t preceded by a space, or by a fold when it would not fit.
func (f *field) token(t string) {
	if f.col+1+len(t) > maxLine && f.col > 1 {
		f.b.buf.WriteString("\r\n ")
		f.col = 1
	} else {
		f.b.buf.WriteByte(' ')
		f.col++
	}
	f.b.buf.WriteString(t)
	f.col += len(t)
}

// glue writes t with no space before it (e.g. the "," after an address).
func (f *field) glue(t string) {
	f.b.buf.WriteString(t)
	f.col += len(t)
}

func (f *field) end() { f.b.buf.WriteString("\r\n") }

// room is what is left on the current line after a separating space.
func (f *field) room() int { return maxLine - f.col - 1 }

// textField writes an unstructured field (Subject, extra headers).
func (b *builder) textField(name, value string) {
	f := b.startField(name)
	if needsEncoding(value) {
		b.encodedWords(&f, value)
	} else {
		plainWords(&f, value)
	}
	f.end()
}

// plainWords folds ASCII text at single spaces; unfolding (which turns the
// CRLF+space back into one space) then gives the exact value back.
func plainWords(f *field, value string) {
	start := 0
	for i := 0; i < len(value); i++ {
		if value[i] == ' ' {
			f.token(value[start:i])
			start = i + 1
		}
	}
	f.token(value[start:])
}

// needsEncoding reports whether value cannot go out as plain ASCII words:
// non-ASCII or control characters, something that looks like an encoded
// word, or whitespace that folding would not keep exactly.
func needsEncoding(value string) bool {
	if value == "" {
		return false
	}
	if value[0] == ' ' || value[len(value)-1] == ' ' {
		return true
	}
	prevSpace, word := false, 0
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c == ' ' {
			word = 0
		} else if word++; word > 900 { // no fold point before the 998 limit
			return true
		}
		if c >= 0x7f || (c < ' ' && c != '\t') || c == '\t' {
			return true
		}
		if c == '=' && i+1 < len(value) && value[i+1] == '?' {
			return true
		}
		if c == ' ' && prevSpace {
			return true
		}
		prevSpace = c == ' '
	}
	return false
}

// encodedWords writes value as RFC 2047 B-encoded words in the builder's
// charset, each word fitting the line it lands on.
func (b *builder) encodedWords(f *field, value string) {
	if b.charset == ISO2022JP {
		b.jisWords(f, value)
		return
	}
	const prefix, suffix = "=?UTF-8?B?", "?="
	for value != "" {
		room := f.room()
		if room < len(prefix)+len(suffix)+8 {
			room = maxLine - 2
		}
		maxRaw := (room - len(prefix) - len(suffix)) / 4 * 3
		n := 0
		for n < len(value) {
			_, size := utf8.DecodeRuneInString(value[n:])
			if n+size > maxRaw {
				break
			}
			n += size
		}
		if n == 0 { // a room too small for one rune: take a whole line
			_, n = utf8.DecodeRuneInString(value)
		}
		b.scratch = append(b.scratch[:0], prefix...)
		b.scratch = base64.StdEncoding.AppendEncode(b.scratch, []byte(value[:n]))
		b.scratch = append(b.scratch, suffix...)
		f.token(string(b.scratch))
		value = value[n:]
	}
}

// addressField writes From or To.
func (b *builder) addressField(name string, addrs []Address) {
	f := b.startField(name)
	for i, a := range addrs {
		if a.Name != "" {
			if needsEncoding(a.Name) {
				b.encodedWords(&f, a.Name)
			} else {
				f.token(quotePhrase(a.Name))
			}
			f.token("<" + a.Addr + ">")
		} else {
			f.token(a.Addr)
		}
		if i < len(addrs)-1 {
			f.glue(",")
		}
	}
	f.end()
}

// quotePhrase returns name as an RFC 5322 phrase: as is when it is all
// atext and spaces, else a quoted string.
func quotePhrase(name string) string {
	plain := true
	for i := 0; i < len(name); i++ {
		if !isAtext(name[i]) && name[i] != ' ' {
			plain = false
			break
		}
	}
	if plain {
		return name
	}
	out := make([]byte, 0, len(name)+4)
	out = append(out, '"')
	for i := 0; i < len(name); i++ {
		if name[i] == '"' || name[i] == '\\' {
			out = append(out, '\\')
		}
		out = append(out, name[i])
	}
	return string(append(out, '"'))
}

func isAtext(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '/', '=', '?', '^', '_', '`', '{', '|', '}', '~':
		return true
	}
	return false
}
