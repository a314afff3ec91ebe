package merge

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"mime"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
)

// This file writes the RFC 5322 / MIME bytes of a merged message straight
// into a reused buffer. It is the hot path of a delivery (one call per
// recipient), which is why it does not build an intermediate message value.
// It follows the message model of internal/message (UTF-8 or ISO-2022-JP,
// falling back to UTF-8 when ISO-2022-JP cannot carry a character).

// Envelope is what Compose needs besides the merged content.
type Envelope struct {
	MessageID string // without angle brackets; generated when empty
	Date      time.Time
	Headers   map[string]string // extra headers, e.g. X-Bluemoon-Delivery
}

var b64 = base64.StdEncoding

// Compose writes c as a complete message into buf (which it resets).
func (t *Template) Compose(c *Content, env Envelope, buf *bytes.Buffer) error {
	buf.Reset()
	charset := t.spec.Charset
	var jis jisParts
	fromName := t.spec.FromName
	if charset == "iso-2022-jp" {
		c.Subject, c.Text, c.HTML, fromName = widenKana(c.Subject), widenKana(c.Text), widenKana(c.HTML), widenKana(fromName)
		var ok bool
		jis, ok = encodeJIS(c)
		if !ok {
			charset = "utf-8" // a character ISO-2022-JP lacks (an emoji, say): UTF-8 rather than a broken message
		}
	}
	from := t.spec.From
	date := env.Date
	if date.IsZero() {
		date = time.Now()
	}
	buf.WriteString("Date: ")
	buf.WriteString(date.Format(time.RFC1123Z))
	buf.WriteString("\r\nFrom: ")
	if fromName != "" {
		writeHeaderText(buf, fromName, charset, true)
		buf.WriteString(" <")
		buf.WriteString(from)
		buf.WriteString(">")
	} else {
		buf.WriteString(from)
	}
	buf.WriteString("\r\nTo: ")
	buf.WriteString(c.To)
	buf.WriteString("\r\nSubject: ")
	writeHeaderText(buf, c.Subject, charset, false)
	buf.WriteString("\r\nMessage-ID: <")
	if env.MessageID != "" {
		buf.WriteString(env.MessageID)
	} else {
		buf.WriteString(NewMessageID(from))
	}
	buf.WriteString(">\r\n")
	for k, v := range env.Headers {
		buf.WriteString(k)
		buf.WriteString(": ")
		buf.WriteString(v)
		buf.WriteString("\r\n")
	}
	buf.WriteString("MIME-Version: 1.0\r\n")

	mixed := len(c.Attachments) > 0
	var outer string
	if mixed {
		outer = newBoundary()
		buf.WriteString("Content-Type: multipart/mixed; boundary=\"" + outer + "\"\r\n\r\n")
		buf.WriteString("--" + outer + "\r\n")
	}
	switch {
	case c.Text != "" && c.HTML != "":
		alt := newBoundary()
		buf.WriteString("Content-Type: multipart/alternative; boundary=\"" + alt + "\"\r\n\r\n")
		buf.WriteString("--" + alt + "\r\n")
		writeBody(buf, "text/plain", charset, c.Text, jis.text)
		buf.WriteString("\r\n--" + alt + "\r\n")
		writeBody(buf, "text/html", charset, c.HTML, jis.html)
		buf.WriteString("\r\n--" + alt + "--\r\n")
	case c.HTML != "":
		writeBody(buf, "text/html", charset, c.HTML, jis.html)
	default:
		writeBody(buf, "text/plain", charset, c.Text, jis.text)
	}
	if mixed {
		for _, a := range c.Attachments {
			buf.WriteString("\r\n--" + outer + "\r\n")
			writeAttachment(buf, a)
		}
		buf.WriteString("\r\n--" + outer + "--\r\n")
	}
	return nil
}

// jisParts holds the bodies already encoded to ISO-2022-JP.
type jisParts struct{ text, html []byte }

func encodeJIS(c *Content) (jisParts, bool) {
	var p jisParts
	var err error
	enc := japanese.ISO2022JP.NewEncoder()
	for _, s := range []string{c.Subject, c.To} {
		if _, err = enc.String(s); err != nil {
			return p, false
		}
	}
	if c.Text != "" {
		if p.text, err = enc.Bytes([]byte(c.Text)); err != nil {
			return p, false
		}
	}
	if c.HTML != "" {
		if p.html, err = enc.Bytes([]byte(c.HTML)); err != nil {
			return p, false
		}
	}
	return p, true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf || s[i] < ' ' && s[i] != '\t' {
			return false
		}
	}
	return true
}

// writeHeaderText writes s as header text: as it is when plain ASCII, else
// as RFC 2047 encoded words in the message's charset. ISO-2022-JP words are
// cut every few characters so each word is self-contained (ends back in
// ASCII) and short enough for a 78-column line.
func writeHeaderText(buf *bytes.Buffer, s, charset string, phrase bool) {
	if isASCII(s) {
		if phrase && strings.ContainsAny(s, `()<>[]:;@\,."`) {
			buf.WriteString(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`)
			return
		}
		buf.WriteString(s)
		return
	}
	if charset != "iso-2022-jp" {
		buf.WriteString(mime.BEncoding.Encode("UTF-8", s))
		return
	}
	enc := japanese.ISO2022JP.NewEncoder()
	runes := []rune(s)
	for i := 0; i < len(runes); i += 12 {
		j := min(i+12, len(runes))
		b, err := enc.Bytes([]byte(string(runes[i:j])))
		if err != nil { // checked by encodeJIS already; keep the header valid anyway
			buf.WriteString(mime.BEncoding.Encode("UTF-8", string(runes[i:j])))
			continue
		}
		if i > 0 {
			buf.WriteString("\r\n ")
		}
		buf.WriteString("=?ISO-2022-JP?B?")
		buf.WriteString(b64.EncodeToString(b))
		buf.WriteString("?=")
	}
}

// writeBody writes the Content-Type, Content-Transfer-Encoding and body of
// one text part. ISO-2022-JP is 7bit by design (the form Japanese mail
// readers expect); UTF-8 goes as base64 so that no line-length or 8-bit
// rule of any relay can break it.
func writeBody(buf *bytes.Buffer, ctype, charset, body string, jis []byte) {
	if charset == "iso-2022-jp" && maxLine(jis) <= 900 {
		buf.WriteString("Content-Type: " + ctype + "; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
		writeCRLF(buf, jis)
		return
	}
	raw := []byte(body)
	if charset == "iso-2022-jp" {
		raw = jis
		buf.WriteString("Content-Type: " + ctype + "; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	} else if isASCII7(raw) && maxLine(raw) <= 900 {
		buf.WriteString("Content-Type: " + ctype + "; charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
		writeCRLF(buf, raw)
		return
	} else {
		buf.WriteString("Content-Type: " + ctype + "; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	}
	writeBase64(buf, normaliseCRLF(raw))
}

func isASCII7(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || c == 0 {
			return false
		}
	}
	return true
}

func maxLine(b []byte) int {
	m, n := 0, 0
	for _, c := range b {
		if c == '\n' {
			n = 0
			continue
		}
		n++
		m = max(m, n)
	}
	return m
}

// writeCRLF writes b with every line ending as CRLF and a final one.
func writeCRLF(buf *bytes.Buffer, b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			buf.Write(b)
			break
		}
		line := b[:i]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		buf.Write(line)
		buf.WriteString("\r\n")
		b = b[i+1:]
	}
	if buf.Len() >= 2 && string(buf.Bytes()[buf.Len()-2:]) != "\r\n" {
		buf.WriteString("\r\n")
	}
}

func normaliseCRLF(b []byte) []byte {
	if !bytes.Contains(b, []byte("\n")) {
		return b
	}
	var out bytes.Buffer
	writeCRLF(&out, b)
	return out.Bytes()
}

// writeBase64 writes b in base64 lines of 76 characters.
func writeBase64(buf *bytes.Buffer, b []byte) {
	var line [76]byte
	for len(b) > 0 {
		n := min(len(b), 57)
		b64.Encode(line[:], b[:n])
		buf.Write(line[:b64.EncodedLen(n)])
		buf.WriteString("\r\n")
		b = b[n:]
	}
}

func writeAttachment(buf *bytes.Buffer, a Attachment) {
	ct := a.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	name := mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename})
	if name == "" {
		name = "attachment"
	}
	buf.WriteString("Content-Type: " + ct + "\r\nContent-Disposition: " + name + "\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	writeBase64(buf, a.Data)
}

// ContentTypeOf guesses a file's MIME type from its extension.
func ContentTypeOf(path string) string {
	if t := mime.TypeByExtension(strings.ToLower(filepath.Ext(path))); t != "" {
		return t
	}
	return "application/octet-stream"
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("no randomness: " + err.Error()))
	}
	return hex.EncodeToString(b)
}

func newBoundary() string { return "bm-" + randomHex(12) }

// NewMessageID returns a unique Message-ID (without brackets) in the
// domain of from.
func NewMessageID(from string) string {
	domain := "bluemoon.invalid"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i+1 < len(from) {
		domain = from[i+1:]
	}
	return randomHex(12) + "@" + domain
}
