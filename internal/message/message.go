// Package message builds RFC 5322 / MIME messages: display names, text and
// HTML alternatives, attachments with Japanese file names, and the two
// charsets Japanese recipients meet (UTF-8 and ISO-2022-JP).
//
// It is the one message builder of the project: test sends, previews and
// deliveries all go through it. A delivery calls WriteBuffer once per
// recipient, so building writes straight into the caller's reused buffer,
// never formats through fmt and allocates nothing on the way (ISO-2022-JP
// included: a table lookup per character, no encoder per call); common
// attachments are encoded once (Attachment.Prepared).
package message

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Address is a mailbox with an optional display name.
type Address struct{ Name, Addr string }

// Attachment is a file sent with the message.
type Attachment struct {
	Filename    string
	ContentType string // "application/octet-stream" when empty
	Data        []byte

	prepared *preparedPart
}

// Prepared returns a copy of a that carries its MIME part (header fields
// and base64 body) encoded once: for an attachment sent with many messages,
// such as a delivery's common attachments, which then costs each message a
// copy instead of an encoding. Data must not be changed afterwards; a copy
// whose Filename, ContentType or Data is replaced is encoded afresh.
func (a Attachment) Prepared() Attachment {
	p := &preparedPart{filename: a.Filename, ctype: a.ContentType, size: len(a.Data)}
	if len(a.Data) > 0 {
		p.data = &a.Data[0]
	}
	for _, cs := range []string{UTF8, ISO2022JP} {
		var buf bytes.Buffer
		var failed error // none: a name ISO-2022-JP cannot carry goes as UTF-8
		b := builder{buf: &buf, charset: cs, err: &failed}
		b.attachmentHead(&a)
		if cs == UTF8 {
			p.headUTF8 = buf.Bytes()
		} else {
			p.headJIS = buf.Bytes()
		}
	}
	var buf bytes.Buffer
	writeBase64(&builder{buf: &buf}, a.Data)
	p.body = buf.Bytes()
	a.prepared = p
	return a
}

// preparedPart is an attachment's part, encoded by Prepared.
type preparedPart struct {
	filename, ctype   string
	data              *byte // the Data it was encoded from
	size              int
	headUTF8, headJIS []byte
	body              []byte
}

func (p *preparedPart) matches(a *Attachment) bool {
	if len(a.Data) != p.size || a.Filename != p.filename || a.ContentType != p.ctype {
		return false
	}
	return p.size == 0 || &a.Data[0] == p.data
}

// Message is what a delivery renders for one recipient.
type Message struct {
	From        Address
	To          []Address
	Subject     string
	Text, HTML  string
	Attachments []Attachment
	// Charset is "utf-8" (default) or "iso-2022-jp".
	Charset string
	// FallbackUTF8 sends the message as UTF-8 when ISO-2022-JP cannot carry
	// one of its characters, instead of failing.
	FallbackUTF8 bool
	// MessageID is generated with the From domain when empty (without <>).
	MessageID string
	// Date is now when zero.
	Date time.Time
	// Headers are extra header fields (e.g. X-Bluemoon-Delivery).
	Headers map[string]string
}

// Charsets Bytes accepts.
const (
	UTF8      = "utf-8"
	ISO2022JP = "iso-2022-jp"
)

// NormalizeCharset maps the spellings people type to UTF8 or ISO2022JP.
func NormalizeCharset(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "utf-8", "utf8":
		return UTF8, nil
	case "iso-2022-jp", "iso2022jp", "jis":
		return ISO2022JP, nil
	}
	return "", fmt.Errorf("charset %q: use utf-8 or iso-2022-jp", s)
}

// Bytes renders the message with CRLF line ends. With Charset iso-2022-jp it
// returns a *CharsetError when a character cannot be written in ISO-2022-JP,
// unless FallbackUTF8 is set. Half-width katakana are widened (ｶﾞ → ガ):
// ISO-2022-JP as mail uses it has none.
func (m *Message) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	if err := m.WriteBuffer(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteBuffer appends the message to buf, as Bytes would return it. It is
// for the bulk sender, which renders one message per recipient into one
// reused buffer. On error buf is left as it was.
func (m *Message) WriteBuffer(buf *bytes.Buffer) error {
	_, err := m.WriteBufferFallback(buf)
	return err
}

// WriteBufferFallback is WriteBuffer that also says why an ISO-2022-JP
// message went as UTF-8 (FallbackUTF8): the first character ISO-2022-JP
// cannot carry, or nil when the message went in the charset asked for. A
// preview and a delivery's preflight tell the user.
func (m *Message) WriteBufferFallback(buf *bytes.Buffer) (fellBack *CharsetError, err error) {
	cs, err := NormalizeCharset(m.Charset)
	if err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	start := buf.Len()
	buf.Grow(m.sizeHint())
	// The error lives outside the builder so that the builder, scratch
	// array included, stays on the stack.
	var failed error
	b := builder{buf: buf, charset: cs, err: &failed}
	b.message(m)
	if failed != nil && cs == ISO2022JP && m.FallbackUTF8 {
		if errors.As(failed, &fellBack) {
			buf.Truncate(start)
			failed = nil
			b.charset, b.atPartStart = UTF8, false
			b.message(m)
		}
	}
	if failed != nil {
		buf.Truncate(start)
		return nil, failed
	}
	return fellBack, nil
}

func (m *Message) sizeHint() int {
	n := 1024 + len(m.Subject)*3 + (len(m.Text)+len(m.HTML))*3/2
	for _, a := range m.Attachments {
		n += 512 + len(a.Data)*138/100
	}
	return n
}

func (m *Message) validate() error {
	if !validAddr(m.From.Addr) {
		return checkAddr("From", m.From.Addr)
	}
	if err := CheckHeaderText("From name", m.From.Name); err != nil {
		return err
	}
	if len(m.To) == 0 {
		return errors.New("message has no To address")
	}
	for i, a := range m.To {
		if !validAddr(a.Addr) {
			return checkAddr(fmt.Sprintf("To #%d", i+1), a.Addr)
		}
		if a.Name != "" {
			if err := CheckHeaderText(fmt.Sprintf("To #%d name", i+1), a.Name); err != nil {
				return err
			}
		}
	}
	for k, v := range m.Headers {
		if !validFieldName(k) {
			return fmt.Errorf("header name %q is not a valid field name", k)
		}
		if isReserved(k) {
			return fmt.Errorf("header %s cannot be set as an extra header: it comes from the message itself", k)
		}
		if err := CheckHeaderText("header "+k, v); err != nil {
			return err
		}
	}
	// NUL is the one byte no part of a message may carry (RFC 5322), and
	// a 7bit part would carry it as it is.
	for _, p := range [...]struct{ name, s string }{{"Subject", m.Subject}, {"text body", m.Text}, {"HTML body", m.HTML}} {
		if strings.IndexByte(p.s, 0) >= 0 {
			return fmt.Errorf("%s contains a NUL byte (binary data), which a message cannot carry", p.name)
		}
	}
	for i, a := range m.Attachments {
		if a.Filename == "" {
			return fmt.Errorf("attachment #%d has no file name", i+1)
		}
		if hasLineBreak(a.Filename) || hasLineBreak(a.ContentType) {
			return fmt.Errorf("attachment %q: name or type contains a line break", a.Filename)
		}
	}
	return nil
}

func checkAddr(field, addr string) error {
	if !isASCII(addr) {
		// Would need SMTPUTF8 end to end, which many servers lack.
		return fmt.Errorf("%s address %q has non-ASCII characters: internationalized addresses are not supported (use the ASCII form of the domain)", field, addr)
	}
	if !validAddr(addr) {
		return fmt.Errorf("%s address %q is not an e-mail address", field, addr)
	}
	return nil
}

func validAddr(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return false
	}
	for i := 0; i < len(addr); i++ {
		switch c := addr[i]; {
		case c <= ' ', c >= 0x7f, c == '<', c == '>', c == ',', c == '"':
			return false
		}
	}
	return true
}

func hasLineBreak(s string) bool {
	return strings.IndexByte(s, '\n') >= 0 || strings.IndexByte(s, '\r') >= 0
}

func validFieldName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || c == ':' {
			return false
		}
	}
	return true
}

// reserved are the fields Bytes writes itself; Headers cannot set them.
var reserved = [...]string{"From", "To", "Subject", "Date", "Message-ID",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding"}

func isReserved(k string) bool {
	for _, r := range reserved {
		if strings.EqualFold(k, r) {
			return true
		}
	}
	return false
}

// NewMessageID returns a unique id "<random>@<domain of from>" (without <>).
func NewMessageID(from string) string {
	var buf [64]byte
	return string(AppendMessageID(buf[:0], from))
}

// AppendMessageID appends what NewMessageID returns to dst, so that a bulk
// sender can put its own prefix before it without formatting a string
// per message.
func AppendMessageID(dst []byte, from string) []byte {
	domain := "localhost"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = from[at+1:]
	}
	var r [16]byte
	rand.Read(r[:]) // never fails since Go 1.24
	dst = hex.AppendEncode(dst, r[:])
	dst = append(dst, '@')
	return append(dst, domain...)
}

func (b *builder) message(m *Message) {
	date := m.Date
	if date.IsZero() {
		date = time.Now()
	}
	id := m.MessageID
	if id == "" {
		id = NewMessageID(m.From.Addr)
	}
	id = strings.Trim(id, "<>")

	b.addressField("From", []Address{m.From})
	b.addressField("To", m.To)
	b.textField("Subject", fieldRef{name: "Subject"}, m.Subject)
	b.raw("Date: ")
	b.buf.Write(appendDate(b.scratch[:0], date))
	b.raw("\r\n")
	b.raw("Message-ID: <")
	b.buf.WriteString(id)
	b.raw(">\r\n")
	b.extraHeaders(m.Headers)
	b.raw("MIME-Version: 1.0\r\n")

	switch {
	case len(m.Attachments) == 0:
		b.body(m)
	default:
		bd := b.newBoundary()
		b.raw("Content-Type: multipart/mixed; boundary=\"")
		b.buf.Write(bd[:])
		b.raw("\"\r\n\r\n")
		b.atPartStart = true
		// Always a text part (empty if need be): clients show it above the files.
		b.boundary(bd[:], false)
		b.body(m)
		for i := range m.Attachments {
			b.boundary(bd[:], false)
			b.attachment(&m.Attachments[i])
		}
		b.boundary(bd[:], true)
	}
}

// appendDate appends t as RFC 5322 wants it, "Mon, 02 Jan 2006 15:04:05
// -0700": time.RFC1123Z, written by hand because time's general formatter
// was a tenth of the cost of building a plain message.
func appendDate(dst []byte, t time.Time) []byte {
	const days, months = "SunMonTueWedThuFriSat", "JanFebMarAprMayJunJulAugSepOctNovDec"
	two := func(dst []byte, n int) []byte { return append(dst, byte('0'+n/10), byte('0'+n%10)) }
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	_, off := t.Zone()
	wd := int(t.Weekday()) * 3
	dst = append(dst, days[wd:wd+3]...)
	dst = append(dst, ", "...)
	dst = two(dst, day)
	dst = append(dst, ' ')
	mo := (int(month) - 1) * 3
	dst = append(dst, months[mo:mo+3]...)
	dst = append(dst, ' ')
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst[:0], time.RFC1123Z) // not a date a message carries
	}
	dst = two(dst, year/100)
	dst = two(dst, year%100)
	dst = append(dst, ' ')
	dst = two(dst, hour)
	dst = append(dst, ':')
	dst = two(dst, minute)
	dst = append(dst, ':')
	dst = two(dst, sec)
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	off /= 60
	dst = append(dst, ' ', sign)
	dst = two(dst, off/60%100)
	return two(dst, off%60)
}

// extraHeaders writes h sorted by name, so that a message is the same bytes
// every time it is built.
func (b *builder) extraHeaders(h map[string]string) {
	if len(h) == 0 {
		return
	}
	var arr [8]string
	keys := arr[:0]
	for k := range h {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.textField(k, fieldRef{prefix: "Header ", name: k}, h[k])
	}
}

// body writes the header fields and content of the text part(s).
func (b *builder) body(m *Message) {
	switch {
	case m.Text != "" && m.HTML != "":
		bd := b.newBoundary()
		b.raw("Content-Type: multipart/alternative; boundary=\"")
		b.buf.Write(bd[:])
		b.raw("\"\r\n\r\n")
		b.atPartStart = true
		b.boundary(bd[:], false)
		b.textPart("text/plain", "Text", m.Text)
		b.boundary(bd[:], false)
		b.textPart("text/html", "HTML", m.HTML)
		b.boundary(bd[:], true)
	case m.HTML != "":
		b.textPart("text/html", "HTML", m.HTML)
	default:
		b.textPart("text/plain", "Text", m.Text)
	}
}

// boundary is "bm=_" and 24 random hex digits: "=_" cannot occur in
// quoted-printable or base64 output.
type boundary [28]byte

func (b *builder) newBoundary() boundary {
	var r [12]byte
	rand.Read(r[:])
	var out boundary
	copy(out[:], "bm=_")
	hex.Encode(out[4:], r[:])
	return out
}

func (b *builder) boundary(bd []byte, last bool) {
	// The CRLF before "--" belongs to the delimiter (RFC 2046), so a part's
	// content is written without a trailing line break of its own; right
	// after the multipart's header fields the blank line already ends it.
	if !b.atPartStart {
		b.raw("\r\n")
	}
	b.atPartStart = false
	b.raw("--")
	b.buf.Write(bd)
	if last {
		b.raw("--")
	}
	b.raw("\r\n")
}

// builder writes one message into buf.
type builder struct {
	buf     *bytes.Buffer
	charset string
	// scratch backs short-lived slices (encoded words, a date), always as
	// a local append(b.scratch[:0], …) and never stored: that keeps the
	// builder on the stack and those slices free.
	scratch [96]byte
	// atPartStart: a multipart's header fields were just written.
	atPartStart bool
	// *err is the first error (a *CharsetError); writing goes on
	// regardless and the caller discards the output.
	err *error
}

func (b *builder) raw(s string) { b.buf.WriteString(s) }

func (b *builder) fail(err error) {
	if *b.err == nil {
		*b.err = err
	}
}
