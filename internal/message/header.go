package message

import (
	"encoding/base64"
	"strconv"
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
	// oneLine: separate tokens by single spaces, never folding, with none
	// before the first (RFC 2047 words inside a quoted parameter value).
	// Words are still sized as if the line were folded.
	oneLine bool
	tokens  int
}

func (b *builder) startField(name string) field {
	b.buf.WriteString(name)
	b.buf.WriteString(":")
	return field{b: b, col: len(name) + 1}
}

// token writes t preceded by a space, or by a fold when it would not fit.
func (f *field) token(t string) {
	f.space(len(t))
	f.b.buf.WriteString(t)
	f.col += len(t)
}

// space writes what goes before a token of n bytes: a space, or a fold
// when the token would not fit on the line.
func (f *field) space(n int) {
	f.tokens++
	fold := f.col+1+n > maxLine && f.col > 1
	switch {
	case f.oneLine && f.tokens > 1:
		f.b.buf.WriteByte(' ')
	case f.oneLine:
	case fold:
		f.b.buf.WriteString("\r\n ")
	default:
		f.b.buf.WriteByte(' ')
	}
	if fold {
		f.col = 1
	} else {
		f.col++
	}
}

// word writes the RFC 2047 encoded word prefix + base64(raw) + suffix as
// one token, encoding straight into the buffer.
func (f *field) word(prefix string, raw []byte, suffix string) {
	n := len(prefix) + base64.StdEncoding.EncodedLen(len(raw)) + len(suffix)
	f.space(n)
	f.b.buf.Grow(n)
	dst := f.b.buf.AvailableBuffer()
	dst = append(dst, prefix...)
	dst = base64.StdEncoding.AppendEncode(dst, raw)
	dst = append(dst, suffix...)
	f.b.buf.Write(dst)
	f.col += n
}

// angleAddr writes "<addr>" as one token.
func (f *field) angleAddr(addr string) {
	f.space(len(addr) + 2)
	f.b.buf.WriteByte('<')
	f.b.buf.WriteString(addr)
	f.b.buf.WriteByte('>')
	f.col += len(addr) + 2
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
func (b *builder) textField(name string, ref fieldRef, value string) {
	f := b.startField(name)
	if needsEncoding(value) {
		b.encodedWords(&f, ref, value)
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
func (b *builder) encodedWords(f *field, ref fieldRef, value string) {
	if b.charset == ISO2022JP {
		b.jisWords(f, ref, value)
		return
	}
	b.utf8Words(f, value)
}

// utf8Words writes value as RFC 2047 B-encoded UTF-8 words, each fitting
// the line it lands on and ending on a whole character.
func (b *builder) utf8Words(f *field, value string) {
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
		f.word(prefix, append(b.scratch[:0], value[:n]...), suffix)
		value = value[n:]
	}
}

// addressField writes From or To.
func (b *builder) addressField(name string, addrs []Address) {
	f := b.startField(name)
	for i, a := range addrs {
		if a.Name != "" {
			if needsEncoding(a.Name) {
				ref := fieldRef{name: name, suffix: " name"}
				if name != "From" {
					ref.idx = i + 1
				}
				b.encodedWords(&f, ref, a.Name)
			} else {
				f.phrase(a.Name)
			}
			f.angleAddr(a.Addr)
		} else {
			f.token(a.Addr)
		}
		if i < len(addrs)-1 {
			f.glue(",")
		}
	}
	f.end()
}

// fieldRef names a field in a *CharsetError ("Subject", "To #2 name",
// "Header X-Note"), put together only when there is an error.
type fieldRef struct {
	prefix, name, suffix string
	idx                  int // "#idx" after name when > 0
}

func (r fieldRef) String() string {
	s := r.prefix + r.name
	if r.idx > 0 {
		s += " #" + strconv.Itoa(r.idx)
	}
	return s + r.suffix
}

// phrase writes name as one RFC 5322 phrase token: as is when it is all
// atext and spaces, else as a quoted string.
func (f *field) phrase(name string) {
	plain, quoted := true, len(name)+2
	for i := 0; i < len(name); i++ {
		if !isAtext(name[i]) && name[i] != ' ' {
			plain = false
		}
		if name[i] == '"' || name[i] == '\\' {
			quoted++
		}
	}
	if plain {
		f.token(name)
		return
	}
	f.space(quoted)
	f.b.buf.WriteByte('"')
	for i := 0; i < len(name); i++ {
		if name[i] == '"' || name[i] == '\\' {
			f.b.buf.WriteByte('\\')
		}
		f.b.buf.WriteByte(name[i])
	}
	f.b.buf.WriteByte('"')
	f.col += quoted
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
