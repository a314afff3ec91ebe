package message

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// textPart writes the Content-Type / Content-Transfer-Encoding fields and
// the content of one text part. Line breaks become CRLF. fieldName ("Text",
// "HTML") names the part in a *CharsetError.
func (b *builder) textPart(ctype, fieldName, text string) {
	b.raw("Content-Type: ")
	b.raw(ctype)
	nonASCII, longest, bare := scanText(text)
	if b.charset == ISO2022JP {
		b.raw("; charset=ISO-2022-JP\r\n")
		if nonASCII == 0 && longest <= 998 {
			b.raw("Content-Transfer-Encoding: 7bit\r\n\r\n")
			b.writeCRLF(text, bare)
			return
		}
		head := b.buf.Len()
		b.raw("Content-Transfer-Encoding: 7bit\r\n\r\n")
		body := b.buf.Len()
		b.buf.Grow(len(text) + len(text)/2)
		out, bad := appendJIS(b.buf.AvailableBuffer(), text, true)
		if bad >= 0 {
			b.fail(charsetError(fieldName, text, bad, true))
			return
		}
		b.buf.Write(out)
		if longestLine(b.buf.Bytes()[body:]) > 998 {
			// 7bit would break the 998-octet line limit: base64 instead
			// (rare, so the copy does not matter).
			data := append([]byte(nil), b.buf.Bytes()[body:]...)
			b.buf.Truncate(head)
			b.raw("Content-Transfer-Encoding: base64\r\n\r\n")
			writeBase64(b, data)
		}
		return
	}
	b.raw("; charset=UTF-8\r\n")
	switch {
	case nonASCII == 0 && longest <= 998:
		b.raw("Content-Transfer-Encoding: 7bit\r\n\r\n")
		b.writeCRLF(text, bare)
	case nonASCII*4 < len(text):
		// Mostly ASCII: quoted-printable keeps it readable and small.
		b.raw("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
		b.writeQP(text)
	default:
		// Japanese text is 3 bytes a character in UTF-8: base64 (4/3) beats
		// quoted-printable (3 escapes a byte).
		b.raw("Content-Transfer-Encoding: base64\r\n\r\n")
		if bare {
			writeBase64CRLF(b, text)
		} else {
			writeBase64(b, text)
		}
	}
}

// scanText counts text's non-ASCII bytes, measures its longest line, and
// reports whether it has a line break that is not CRLF (a lone LF or CR).
func scanText(text string) (nonASCII, longest int, bare bool) {
	for i := 0; i < len(text); i++ {
		nonASCII += int(text[i] >> 7)
	}
	if strings.IndexByte(text, '\r') < 0 { // the usual case: LF line breaks, all bare
		for rest := text; ; {
			i := strings.IndexByte(rest, '\n')
			if i < 0 {
				return nonASCII, max(longest, len(rest)), bare
			}
			bare, longest = true, max(longest, i)
			rest = rest[i+1:]
		}
	}
	nonASCII = 0
	cur := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c >= 0x80:
			nonASCII++
		case c == '\n':
			if i == 0 || text[i-1] != '\r' {
				bare = true
			}
			cur = 0
			continue
		case c == '\r':
			if i+1 >= len(text) || text[i+1] != '\n' {
				bare = true
				cur = 0
				continue
			}
		}
		cur++
		longest = max(longest, cur)
	}
	return nonASCII, longest, bare
}

// writeCRLF writes text with lone LF and lone CR turned into CRLF.
func (b *builder) writeCRLF(text string, bare bool) {
	if !bare {
		b.raw(text)
		return
	}
	for len(text) > 0 {
		i := strings.IndexByte(text, '\n')
		if cr := strings.IndexByte(text, '\r'); cr >= 0 && (i < 0 || cr < i) {
			i = cr
		}
		if i < 0 {
			b.raw(text)
			return
		}
		b.raw(text[:i])
		b.raw("\r\n")
		if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
			i++
		}
		text = text[i+1:]
	}
}

func longestLine(data []byte) int {
	longest, cur := 0, 0
	for _, c := range data {
		if c == '\n' {
			cur = 0
			continue
		}
		cur++
		longest = max(longest, cur)
	}
	return longest
}

// writeQP writes text as quoted-printable (RFC 2045): lines of at most 76
// characters with soft breaks, line breaks as CRLF, and the space or tab
// before a line break encoded so that no relay can strip it.
func (b *builder) writeQP(text string) {
	const hexd = "0123456789ABCDEF"
	b.buf.Grow(len(text) + len(text)/2)
	dst := b.buf.AvailableBuffer()
	col := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' || c == '\r' {
			if c == '\r' && i+1 < len(text) && text[i+1] == '\n' {
				i++
			}
			dst = append(dst, '\r', '\n')
			col = 0
			continue
		}
		enc := c >= 0x7f || c == '=' || (c < ' ' && c != '\t')
		if (c == ' ' || c == '\t') && (i+1 == len(text) || text[i+1] == '\n' || text[i+1] == '\r') {
			enc = true
		}
		n := 1
		if enc {
			n = 3
		}
		if col+n > 75 { // 75 + the "=" of the soft break
			dst = append(dst, '=', '\r', '\n')
			col = 0
		}
		if enc {
			dst = append(dst, '=', hexd[c>>4], hexd[c&15])
		} else {
			dst = append(dst, c)
		}
		col += n
	}
	b.buf.Write(dst)
}

// base64Line is the raw bytes of one 76-character base64 line.
const base64Line = 57

// writeBase64 writes data in lines of 76 characters, encoding straight
// into the buffer through a small chunk (a string body is never copied whole).
func writeBase64[T string | []byte](b *builder, data T) {
	if len(data) == 0 {
		return
	}
	enc := base64.StdEncoding
	lines := (len(data) + base64Line - 1) / base64Line
	b.buf.Grow(lines * 78)
	dst := b.buf.AvailableBuffer()
	var chunk [base64Line]byte
	for len(data) > 0 {
		n := copy(chunk[:], data)
		dst = enc.AppendEncode(dst, chunk[:n])
		dst = append(dst, '\r', '\n')
		data = data[n:]
	}
	b.buf.Write(dst[:len(dst)-2]) // the part's delimiter brings its own CRLF
}

// writeBase64CRLF is writeBase64 of text with lone LF and CR turned into
// CRLF, converted on the way rather than copied first.
func writeBase64CRLF(b *builder, text string) {
	if len(text) == 0 {
		return
	}
	enc := base64.StdEncoding
	b.buf.Grow((len(text)+len(text)/8)/base64Line*78 + 78)
	dst := b.buf.AvailableBuffer()
	var chunk [base64Line]byte
	n := 0
	put := func(c byte) {
		chunk[n] = c
		n++
		if n == base64Line {
			dst = enc.AppendEncode(dst, chunk[:])
			dst = append(dst, '\r', '\n')
			n = 0
		}
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\n' && (i == 0 || text[i-1] != '\r'), c == '\r' && (i+1 == len(text) || text[i+1] != '\n'):
			put('\r')
			put('\n')
		default:
			put(c)
		}
	}
	if n > 0 {
		dst = enc.AppendEncode(dst, chunk[:n])
	} else {
		dst = dst[:len(dst)-2] // the part's delimiter brings its own CRLF
	}
	b.buf.Write(dst)
}

// attachment writes one attachment part. The file name goes in
// Content-Disposition as RFC 2231 filename* (UTF-8, what current clients and
// Go read) and in Content-Type as an RFC 2047 name= for old clients (in
// ISO-2022-JP when the message is, and the name fits).
func (b *builder) attachment(a *Attachment) {
	if p := a.prepared; p != nil && p.matches(a) {
		if b.charset == ISO2022JP {
			b.buf.Write(p.headJIS)
		} else {
			b.buf.Write(p.headUTF8)
		}
		b.buf.Write(p.body)
		return
	}
	b.attachmentHead(a)
	writeBase64(b, a.Data)
}

func (b *builder) attachmentHead(a *Attachment) {
	ctype := a.ContentType
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	b.raw("Content-Type: ")
	b.raw(ctype)
	b.raw(";\r\n name=\"")
	if isASCII(a.Filename) && !strings.ContainsAny(a.Filename, "\"\\") {
		b.raw(a.Filename)
	} else {
		b.nameWords(a.Filename)
	}
	b.raw("\"\r\nContent-Disposition: attachment")
	b.rfc2231("filename", a.Filename)
	b.raw("\r\nContent-Transfer-Encoding: base64\r\n\r\n")
}

// nameWords writes a file name as RFC 2047 words separated by spaces (the
// spaces between adjacent words vanish when decoded).
func (b *builder) nameWords(name string) {
	// A fold inside the quoted string would not be undone by every reader:
	// the words go on one line, separated by single spaces.
	f := field{b: b, col: 1, oneLine: true}
	if b.charset == ISO2022JP && jisStrict(name) {
		b.jisWords(&f, fieldRef{name: "attachment name"}, name)
		return
	}
	b.utf8Words(&f, name)
}

// rfc2231 writes ";\r\n name*=UTF-8”..." (or name*0*=, name*1*= ... when
// long) so that the header stays within its line limit.
func (b *builder) rfc2231(param, value string) {
	if isASCII(value) && !strings.ContainsAny(value, "\"\\") && len(value) < 60 {
		b.raw(";\r\n ")
		b.raw(param)
		b.raw("=\"")
		b.raw(value)
		b.raw("\"")
		return
	}
	const hexd = "0123456789ABCDEF"
	esc := b.scratch[:0]
	for i := 0; i < len(value); i++ {
		c := value[i]
		if isAttrChar(c) {
			esc = append(esc, c)
		} else {
			esc = append(esc, '%', hexd[c>>4], hexd[c&15])
		}
	}
	const chunk = 60
	if len(esc)+len("UTF-8''") <= chunk {
		b.raw(";\r\n ")
		b.raw(param)
		b.raw("*=UTF-8''")
		b.buf.Write(esc)
		return
	}
	var num [4]byte
	for i := 0; len(esc) > 0; i++ {
		n := min(chunk, len(esc))
		// never split a %XX escape
		if n < len(esc) {
			if esc[n-1] == '%' {
				n--
			} else if n >= 2 && esc[n-2] == '%' {
				n -= 2
			}
		}
		b.raw(";\r\n ")
		b.raw(param)
		b.raw("*")
		b.buf.Write(strconv.AppendInt(num[:0], int64(i), 10))
		b.raw("*=")
		if i == 0 {
			b.raw("UTF-8''")
		}
		b.buf.Write(esc[:n])
		esc = esc[n:]
	}
}

func isAttrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}
