package merge

import (
	"bytes"
	"fmt"
	"mime"
	"path/filepath"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/message"
)

// A merged message is built by internal/message, the project's one MIME
// builder, so that a delivery, its preview and a test send write the same
// bytes for the same content.

// Attachment is a file sent with the message.
type Attachment = message.Attachment

// Envelope is what Compose needs besides the merged content.
type Envelope struct {
	MessageID string // without angle brackets; generated when empty
	Date      time.Time
	Headers   map[string]string // extra headers, e.g. X-Bluemoon-Delivery
}

// Message returns c as a message from the template's sender, in its
// charset. A delivery must not stop at a recipient whose merged text holds a
// character ISO-2022-JP lacks (an emoji in a name, say): that message goes
// as UTF-8 instead (FallbackUTF8), as docs/delivery.md says.
func (t *Template) Message(c *Content, env Envelope) message.Message {
	c.to[0] = message.Address{Addr: c.To}
	return message.Message{
		From:         message.Address{Name: t.spec.FromName, Addr: t.spec.From},
		To:           c.to[:],
		Subject:      c.Subject,
		Text:         c.Text,
		HTML:         c.HTML,
		Attachments:  c.Attachments,
		Charset:      t.spec.Charset,
		FallbackUTF8: true,
		MessageID:    env.MessageID,
		Date:         env.Date,
		Headers:      env.Headers,
	}
}

// Compose writes c as a complete message into buf (which it resets). It is
// called once per recipient and allocates nothing once buf has grown.
// c.FellBack says whether an ISO-2022-JP message went as UTF-8.
func (t *Template) Compose(c *Content, env Envelope, buf *bytes.Buffer) error {
	buf.Reset()
	m := t.Message(c, env)
	var err error
	c.FellBack, err = m.WriteBufferFallback(buf)
	return err
}

// FallbackNote says, for a preview or a preflight, why a message asked
// for in ISO-2022-JP goes as UTF-8.
func FallbackNote(ce *message.CharsetError) string {
	field := ce.Field
	switch field {
	case "Subject":
		field = "subject"
	case "Text":
		field = "text body"
	case "HTML":
		field = "HTML body"
	}
	return fmt.Sprintf("goes as UTF-8, not ISO-2022-JP: its %s has %q (U+%04X), which ISO-2022-JP (JIS X 0208) lacks", field, ce.Char, ce.Char)
}

// ContentTypeOf guesses a file's MIME type from its extension.
func ContentTypeOf(path string) string {
	if t := mime.TypeByExtension(strings.ToLower(filepath.Ext(path))); t != "" {
		return t
	}
	return "application/octet-stream"
}
