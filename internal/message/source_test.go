package message

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func (src *Source) text() string {
	var b strings.Builder
	for _, p := range src.Pieces {
		b.WriteString(p.Text)
	}
	return b.String()
}

// An ISO-2022-JP message's source reads as Japanese: its text and HTML
// bodies converted, its header and base64 attachment as written, no ESC
// left.
func TestReadableSourceConvertsISO2022JPBodies(t *testing.T) {
	m := &Message{
		From:        Address{Name: "コントソ株式会社", Addr: "info@contoso.example"},
		To:          []Address{{Addr: "taro@example.jp"}},
		Subject:     "山田太郎 様 12月のお知らせ",
		Text:        "山田太郎 様\nいつもありがとうございます。\n",
		HTML:        "<p>年末年始のご案内</p>",
		Attachments: []Attachment{{Filename: "ご案内.txt", ContentType: "text/plain", Data: []byte("営業日\r\n")}},
		Charset:     ISO2022JP,
		Date:        time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
	}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("\x1b$B")) {
		t.Fatal("the built message has no JIS escape: nothing to test")
	}
	src := ReadableSource(raw)
	text := src.text()
	for _, want := range []string{"山田太郎 様\nいつもありがとうございます。\n", "<p>年末年始のご案内</p>", "Subject: =?ISO-2022-JP?", "Content-Type: text/plain; charset=ISO-2022-JP\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("the source lacks %q:\n%s", want, text)
		}
	}
	if strings.ContainsAny(text, "\x1b\r") || src.Escaped || len(src.Converted) != 1 || src.Converted[0] != "ISO-2022-JP" {
		t.Errorf("escaped %v, converted %v:\n%q", src.Escaped, src.Converted, text)
	}
	// Everything but the converted bodies is as written: the base64
	// attachment among it.
	b64 := raw[bytes.Index(raw, []byte("Content-Transfer-Encoding: base64")):]
	b64 = b64[:bytes.Index(b64, []byte("\r\n--"))]
	if !strings.Contains(text, strings.ReplaceAll(string(b64), "\r\n", "\n")) {
		t.Errorf("the attachment's part is not as written:\n%s", text)
	}
}

// Bytes that are no text after conversion — an ESC in a part that says
// US-ASCII, a byte invalid in UTF-8, a NUL — are pieces of their own.
func TestReadableSourceEscapesWhatIsNotText(t *testing.T) {
	raw := "Subject: x\r\nContent-Type: text/plain\r\n\r\n\x1b$B$3$s\x1b(B \xff\x00 ok\r\n"
	src := ReadableSource([]byte(raw))
	if !src.Escaped || len(src.Converted) != 0 {
		t.Fatalf("escaped %v, converted %v", src.Escaped, src.Converted)
	}
	var esc []string
	for _, p := range src.Pieces {
		if p.Escape {
			esc = append(esc, p.Text)
		}
	}
	if strings.Join(esc, " ") != `\x1B \x1B \xFF \x00` || src.text() != "Subject: x\nContent-Type: text/plain\n\n\\x1B$B$3$s\\x1B(B \\xFF\\x00 ok\n" {
		t.Errorf("pieces %q, text %q", esc, src.text())
	}
}

// What is not a mail message at all is still shown, escaped.
func TestReadableSourceOfWhatIsNotMail(t *testing.T) {
	if got := ReadableSource([]byte("no header\x1b")).text(); got != `no header\x1B` {
		t.Errorf("%q", got)
	}
}
