package merge

import (
	"bytes"
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
func (t *Template) Compose(c *Content, env Envelope, buf *bytes.Buffer) error {
	buf.Reset()
	m := t.Message(c, env)
	return m.WriteBuffer(buf)
}

// ContentTypeOf guesses a file's MIME type from its extension.
func ContentTypeOf(path string) string {
	if t := mime.TypeByExtension(strings.ToLower(filepath.Ext(path))); t != "" {
		return t
	}
	return "application/octet-stream"
}
