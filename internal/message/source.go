package message

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/textproto"
	"slices"
	"strings"
	"unicode/utf8"
)

// A message's raw source is bytes in the charsets it was written in: a
// body in ISO-2022-JP is ASCII with ESC $ B … ESC ( B switching to JIS
// and back, which a page shows as "$B$3$s(B" garbage. ReadableSource is
// the source as a mail program's "view source" shows it: the header as
// it is (ASCII, with encoded words), each text part's body that travels
// unencoded (7bit/8bit) converted from its charset to Unicode, and any
// byte that is still not text shown as an escape. Base64 and
// quoted-printable bodies stay as written: they are ASCII already. The
// exact bytes are for a download, never this.

// Source is a message's source made readable.
type Source struct {
	Pieces []SourcePiece
	// Converted is the charsets bodies were converted from, each once, as
	// their Content-Type names them (upper case).
	Converted []string
	// Escaped says some bytes were no text (control characters, bytes
	// invalid in UTF-8) and are pieces of their own.
	Escaped bool
}

// SourcePiece is a run of text, or one byte or control character that is
// not text, written as \xNN (\u00NN for a C1 control), for a page to set
// apart from the text around it.
type SourcePiece struct {
	Text   string
	Escape bool
}

// ReadableSource makes raw readable.
func ReadableSource(raw []byte) *Source {
	src := &Source{}
	var text bytes.Buffer
	src.part(&text, raw, 0)
	src.escape(bytes.ReplaceAll(text.Bytes(), []byte("\r\n"), []byte("\n")))
	return src
}

// part writes one entity (the message, or a part of a multipart body),
// converting its body or, for a multipart, its parts'.
func (src *Source) part(out *bytes.Buffer, raw []byte, depth int) {
	head, body, ok := splitHeader(raw)
	if !ok {
		out.Write(raw)
		return
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(head))).ReadMIMEHeader()
	if err != nil {
		out.Write(raw)
		return
	}
	out.Write(head)
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" && depth < maxDepth {
		src.multipart(out, body, params["boundary"], depth)
		return
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "", "7bit", "8bit", "binary":
	default:
		out.Write(body)
		return
	}
	cs := strings.ToLower(params["charset"])
	if !strings.HasPrefix(mt, "text/") || cs == "" || cs == "utf-8" || cs == "us-ascii" {
		out.Write(body)
		return
	}
	r, err := charsetReader(cs, bytes.NewReader(body))
	if err != nil {
		out.Write(body)
		return
	}
	conv, err := io.ReadAll(r)
	if err != nil {
		out.Write(body)
		return
	}
	out.Write(conv)
	if name := strings.ToUpper(cs); !slices.Contains(src.Converted, name) {
		src.Converted = append(src.Converted, name)
	}
}

// splitHeader cuts raw after the blank line that ends its header (the
// header keeps its line ends and the blank line).
func splitHeader(raw []byte) (head, body []byte, ok bool) {
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			return nil, nil, false
		}
		line := raw[i : i+j+1]
		i += j + 1
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return raw[:i], raw[i:], true
		}
	}
	return nil, nil, false
}

// multipart writes a multipart body: the delimiter lines and what lies
// outside the parts as written, each part through part.
func (src *Source) multipart(out *bytes.Buffer, body []byte, boundary string, depth int) {
	dash := "--" + boundary
	inPart, closed := false, false
	var cur []byte
	flush := func() {
		if inPart {
			src.part(out, cur, depth+1)
		} else {
			out.Write(cur)
		}
		cur = nil
	}
	for _, line := range bytes.SplitAfter(body, []byte("\n")) {
		t := string(bytes.TrimRight(line, " \t\r\n"))
		if !closed && (t == dash || t == dash+"--") {
			flush()
			out.Write(line)
			inPart, closed = t == dash, t == dash+"--"
			continue
		}
		cur = append(cur, line...)
	}
	flush()
}

// escape splits text into pieces, each byte or control character that
// is not text a piece of its own.
func (src *Source) escape(text []byte) {
	start := 0
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRune(text[i:])
		var esc string
		switch {
		case r == utf8.RuneError && n == 1:
			esc = fmt.Sprintf(`\x%02X`, text[i])
		case r < 0x20 && r != '\t' && r != '\n' || r == 0x7f:
			esc = fmt.Sprintf(`\x%02X`, r)
		case r >= 0x80 && r < 0xa0:
			esc = fmt.Sprintf(`\u%04X`, r)
		}
		if esc == "" {
			i += n
			continue
		}
		if start < i {
			src.Pieces = append(src.Pieces, SourcePiece{Text: string(text[start:i])})
		}
		src.Pieces = append(src.Pieces, SourcePiece{Text: esc, Escape: true})
		src.Escaped = true
		i += n
		start = i
	}
	if start < len(text) {
		src.Pieces = append(src.Pieces, SourcePiece{Text: string(text[start:])})
	}
}
