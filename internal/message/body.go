package message

import (
	"encoding/base64"
	"mime"
	"mime/quotedprintable"
	"strings"
)

// textPart writes the Content-Type / Content-Transfer-Encoding fields and
// the content of one text part. Line breaks become CRLF.
func (b *builder) textPart(ctype, text string) {
	text = crlf(text)
	b.raw("Content-Type: ")
	b.raw(ctype)
	if b.charset == ISO2022JP {
		b.raw("; charset=ISO-2022-JP\r\n")
		data := text
		if !isASCII(text) {
			data = toJIS(text)
		}
		if longestLine(data) <= 998 {
			b.raw("Content-Transfer-Encoding: 7bit\r\n\r\n")
			b.raw(data)
		} else { // 7bit would break the 998-octet line limit
			b.raw("Content-Transfer-Encoding: base64\r\n\r\n")
			writeBase64(b, data)
		}
		return
	}
	b.raw("; charset=UTF-8\r\n")
	nonASCII := 0
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 {
			nonASCII++
		}
	}
	switch {
	case nonASCII == 0 && longestLine(text) <= 998:
		b.raw("Content-Transfer-Encoding: 7bit\r\n\r\n")
		b.raw(text)
	case nonASCII*4 < len(text):
		// Mostly ASCII: quoted-printable keeps it readable and small.
		b.raw("Content-Transfer-Encoding: quoted-printable\r\n\r\n")
		w := quotedprintable.NewWriter(&b.buf)
		w.Write([]byte(text))
		w.Close()
	default:
		// Japanese text is 3 bytes a character in UTF-8: base64 (4/3) beats
		// quoted-printable (3 escapes a byte).
		b.raw("Content-Transfer-Encoding: base64\r\n\r\n")
		writeBase64(b, text)
	}
}

// crlf turns lone LF and lone CR into CRLF, and returns text itself (no
// copy) when it already has only CRLF line breaks.
func crlf(text string) string {
	ok := true
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\n':
			if i == 0 || text[i-1] != '\r' {
				ok = false
			}
		case '\r':
			if i+1 >= len(text) || text[i+1] != '\n' {
				ok = false
			}
		}
		if !ok {
			break
		}
	}
	if ok {
		return text
	}
	var sb strings.Builder
	sb.Grow(len(text) + len(text)/32)
	for i := 0; i < len(text); i++ {
		switch c := text[i]; c {
		case '\r':
			sb.WriteString("\r\n")
			if i+1 < len(text) && text[i+1] == '\n' {
				i++
			}
		case '\n':
			sb.WriteString("\r\n")
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

func longestLine[T string | []byte](data T) int {
	longest, cur := 0, 0
	for i := 0; i < len(data); i++ {
		if data[i] == '\n' {
			cur = 0
			continue
		}
		cur++
		if cur > longest {
			longest = cur
		}
	}
	return longest
}

// writeBase64 writes data in lines of 76 characters, encoding straight
// into the buffer through a small chunk (a string body is never copied whole).
func writeBase64[T string | []byte](b *builder, data T) {
	const lineRaw = 57 // 76 encoded characters
	if len(data) == 0 {
		return
	}
	enc := base64.StdEncoding
	var chunk [lineRaw]byte
	for len(data) > 0 {
		n := copy(chunk[:], data)
		dst := b.buf.AvailableBuffer()
		dst = enc.AppendEncode(dst, chunk[:n])
		dst = append(dst, '\r', '\n')
		b.buf.Write(dst)
		data = data[n:]
	}
	b.buf.Truncate(b.buf.Len() - 2) // the part's delimiter brings its own CRLF
}

// attachment writes one attachment part. The file name goes in
// Content-Disposition as RFC 2231 filename* (UTF-8, what current clients and
// Go read) and in Content-Type as an RFC 2047 name= for old clients (in
// ISO-2022-JP when the message is, and the name fits).
func (b *builder) attachment(a *Attachment) {
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
		b.raw(b.nameWord(a.Filename))
	}
	b.raw("\"\r\nContent-Disposition: attachment")
	b.rfc2231("filename", a.Filename)
	b.raw("\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	writeBase64(b, a.Data)
}

// nameWord encodes a file name as RFC 2047 words separated by spaces (the
// spaces between adjacent words vanish when decoded).
func (b *builder) nameWord(name string) string {
	if b.charset == ISO2022JP && findUnencodable("", name, false) == nil {
		sub := &builder{charset: ISO2022JP}
		f := field{b: sub, col: 1}
		sub.jisWords(&f, name)
		return strings.TrimPrefix(strings.ReplaceAll(sub.buf.String(), "\r\n ", " "), " ")
	}
	return mime.BEncoding.Encode("UTF-8", name)
}

// rfc2231 writes ";\r\n name*=UTF-8”..." (or name*0*=, name*1*= ... when
// long) so that the header stays within its line limit.
func (b *builder) rfc2231(param, value string) {
	if isASCII(value) && !strings.ContainsAny(value, "\"\\") && len(value) < 60 {
		b.raw(";\r\n " + param + "=\"" + value + "\"")
		return
	}
	const hexd = "0123456789ABCDEF"
	esc := make([]byte, 0, len(value)*3)
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
		b.raw(";\r\n " + param + "*=UTF-8''")
		b.buf.Write(esc)
		return
	}
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
		b.raw(";\r\n " + param + "*")
		b.raw(itoa(i))
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

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}
