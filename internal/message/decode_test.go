package message

import (
	"strings"
	"testing"
	"time"
)

// What Decode gives back is what was built, in both charsets.
func TestDecodeReadsBackWhatWasBuilt(t *testing.T) {
	for _, cs := range []string{UTF8, ISO2022JP} {
		m := &Message{
			From:    Address{Name: "コントソ株式会社", Addr: "info@contoso.example"},
			To:      []Address{{Addr: "taro@example.jp"}},
			Subject: "山田太郎 様 12月のお知らせ",
			Text:    "山田太郎 様\nいつもありがとうございます。\n",
			HTML:    "<p>山田太郎 様</p>",
			Attachments: []Attachment{{Filename: "ご案内.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7 binary \x00\xff")},
				{Filename: "map.png", ContentType: "image/png", Data: make([]byte, 5000)}},
			Charset: cs,
			Date:    time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
		}
		raw, err := m.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if d.Subject != m.Subject || d.From != "コントソ株式会社 <info@contoso.example>" || d.To != "taro@example.jp" {
			t.Errorf("%s: subject %q from %q to %q", cs, d.Subject, d.From, d.To)
		}
		if d.Text != m.Text || d.HTML != m.HTML || d.Charset != cs {
			t.Errorf("%s: text %q html %q charset %q", cs, d.Text, d.HTML, d.Charset)
		}
		if len(d.Attachments) != 2 || d.Attachments[0].Filename != "ご案内.pdf" || d.Attachments[0].Size != 18 ||
			d.Attachments[1].Filename != "map.png" || d.Attachments[1].Size != 5000 || d.Attachments[1].ContentType != "image/png" {
			t.Errorf("%s: %d attachments, first %q of %d bytes", cs, len(d.Attachments), d.Attachments[0].Filename, d.Attachments[0].Size)
		}
		if d.Headers[0].Name == "" || !strings.Contains(headerText(d), "Subject: 山田太郎 様 12月のお知らせ") {
			t.Errorf("%s: headers\n%s", cs, headerText(d))
		}
		if d.Size != len(raw) {
			t.Errorf("size %d, want %d", d.Size, len(raw))
		}
	}
}

func headerText(d *Decoded) string {
	var b strings.Builder
	for _, h := range d.Headers {
		b.WriteString(h.Name + ": " + h.Value + "\n")
	}
	return b.String()
}

func TestDecodeRefusesWhatIsNotMail(t *testing.T) {
	if _, err := Decode([]byte("no header here")); err == nil {
		t.Fatal("accepted a text without a header")
	}
}
