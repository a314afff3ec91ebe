// Package message builds RFC 5322 / MIME messages: display names, text and
// HTML alternatives, attachments with Japanese file names, and the two
// charsets Japanese recipients meet (UTF-8 and ISO-2022-JP).
//
// Bytes is on the bulk sender's hot path (one call per recipient), so it
// writes straight into one pre-sized buffer and never formats through fmt.
package message

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
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
// unless FallbackUTF8 is set.
func (m *Message) Bytes() ([]byte, error) {
	cs, err := NormalizeCharset(m.Charset)
	if err != nil {
		return nil, err
	}
	if err := m.validate(); err != nil {
		return nil, err
	}
	if cs == ISO2022JP {
		if err := m.checkISO2022JP(); err != nil {
			var ce *CharsetError
			if !m.FallbackUTF8 || !errors.As(err, &ce) {
				return nil, err
			}
			cs = UTF8
		}
	}
	b := &builder{charset: cs}
	b.buf.Grow(m.sizeHint())
	if err := b.message(m); err != nil {
		return nil, err
	}
	return b.buf.Bytes(), nil
}

func (m *Message) sizeHint() int {
	n := 1024 + len(m.Subject)*3 + (len(m.Text)+len(m.HTML))*3/2
	for _, a := range m.Attachments {
		n += 512 + len(a.Data)*138/100
	}
	return n
}

func (m *Message) validate() error {
	if err := checkAddr("From", m.From.Addr); err != nil {
		return err
	}
	if len(m.To) == 0 {
		return errors.New("message has no To address")
	}
	for i, a := range m.To {
		if err := checkAddr(fmt.Sprintf("To #%d", i+1), a.Addr); err != nil {
			return err
		}
	}
	for k, v := range m.Headers {
		if !validFieldName(k) {
			return fmt.Errorf("header name %q is not a valid field name", k)
		}
		if reserved[strings.ToLower(k)] {
			return fmt.Errorf("header %s cannot be set as an extra header: it comes from the message itself", k)
		}
		if strings.ContainsAny(v, "\r\n") {
			return fmt.Errorf("header %s: value contains a line break", k)
		}
	}
	for i, a := range m.Attachments {
		if a.Filename == "" {
			return fmt.Errorf("attachment #%d has no file name", i+1)
		}
		if strings.ContainsAny(a.Filename+a.ContentType, "\r\n") {
			return fmt.Errorf("attachment %q: name or type contains a line break", a.Filename)
		}
	}
	return nil
}

func checkAddr(field, addr string) error {
	at := strings.LastIndexByte(addr, '@')
	if addr == "" || at <= 0 || at == len(addr)-1 || strings.ContainsAny(addr, " \t\r\n<>,\"") {
		return fmt.Errorf("%s address %q is not an e-mail address", field, addr)
	}
	if !isASCII(addr) {
		// Would need SMTPUTF8 end to end, which many servers lack.
		return fmt.Errorf("%s address %q has non-ASCII characters: internationalized addresses are not supported (use the ASCII form of the domain)", field, addr)
	}
	return nil
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
var reserved = map[string]bool{
	"from": true, "to": true, "subject": true, "date": true, "message-id": true,
	"mime-version": true, "content-type": true, "content-transfer-encoding": true,
}

// NewMessageID returns a unique id "<random>@<domain of from>" (without <>).
func NewMessageID(from string) string {
	domain := "localhost"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = from[at+1:]
	}
	var r [16]byte
	rand.Read(r[:]) // never fails since Go 1.24
	var out [32]byte
	hex.Encode(out[:], r[:])
	return string(out[:]) + "@" + domain
}

func (b *builder) message(m *Message) error {
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
	b.textField("Subject", m.Subject)
	b.raw("Date: ")
	b.buf.WriteString(date.Format(time.RFC1123Z))
	b.raw("\r\n")
	b.raw("Message-ID: <")
	b.buf.WriteString(id)
	b.raw(">\r\n")
	if len(m.Headers) > 0 {
		keys := make([]string, 0, len(m.Headers))
		for k := range m.Headers {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.textField(k, m.Headers[k])
		}
	}
	b.raw("MIME-Version: 1.0\r\n")

	switch {
	case len(m.Attachments) == 0:
		b.body(m)
	default:
		bd := newBoundary()
		b.raw("Content-Type: multipart/mixed; boundary=\"")
		b.buf.WriteString(bd)
		b.raw("\"\r\n\r\n")
		b.atPartStart = true
		// Always a text part (empty if need be): clients show it above the files.
		b.boundary(bd, false)
		b.body(m)
		for i := range m.Attachments {
			b.boundary(bd, false)
			b.attachment(&m.Attachments[i])
		}
		b.boundary(bd, true)
	}
	return nil
}

// body writes the header fields and content of the text part(s).
func (b *builder) body(m *Message) {
	switch {
	case m.Text != "" && m.HTML != "":
		bd := newBoundary()
		b.raw("Content-Type: multipart/alternative; boundary=\"")
		b.buf.WriteString(bd)
		b.raw("\"\r\n\r\n")
		b.atPartStart = true
		b.boundary(bd, false)
		b.textPart("text/plain", m.Text)
		b.boundary(bd, false)
		b.textPart("text/html", m.HTML)
		b.boundary(bd, true)
	case m.HTML != "":
		b.textPart("text/html", m.HTML)
	default:
		b.textPart("text/plain", m.Text)
	}
}

func newBoundary() string {
	var r [12]byte
	rand.Read(r[:])
	var out [24]byte
	hex.Encode(out[:], r[:])
	// "=_" cannot occur in quoted-printable or base64 output.
	return "bm=_" + string(out[:])
}

func (b *builder) boundary(bd string, last bool) {
	// The CRLF before "--" belongs to the delimiter (RFC 2046), so a part's
	// content is written without a trailing line break of its own; right
	// after the multipart's header fields the blank line already ends it.
	if !b.atPartStart {
		b.raw("\r\n")
	}
	b.atPartStart = false
	b.raw("--")
	b.buf.WriteString(bd)
	if last {
		b.raw("--")
	}
	b.raw("\r\n")
}

// builder accumulates one message.
type builder struct {
	buf     bytes.Buffer
	charset string
	scratch []byte
	// atPartStart: a multipart's header fields were just written.
	atPartStart bool
}

func (b *builder) raw(s string) { b.buf.WriteString(s) }
