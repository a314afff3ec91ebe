package message

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/japanese"
)

// decoder reads encoded words in UTF-8 and ISO-2022-JP, as a Japanese
// mail client does.
var decoder = &mime.WordDecoder{CharsetReader: func(charset string, in io.Reader) (io.Reader, error) {
	if strings.EqualFold(charset, "iso-2022-jp") {
		return japanese.ISO2022JP.NewDecoder().Reader(in), nil
	}
	return nil, fmt.Errorf("unexpected charset %s", charset)
}}

// parsed is what a reader gets back out of a built message.
type parsed struct {
	Header      mail.Header
	From        *mail.Address
	To          []*mail.Address
	Subject     string
	Text, HTML  string
	TextCharset string
	Files       map[string][]byte // file name → content
	FileTypes   map[string]string
	Names       map[string]string // file name → decoded name= of Content-Type
	TopType     string
}

func parse(t *testing.T, raw []byte) *parsed {
	t.Helper()
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line %d is %d octets long (limit 998)", i+1, len(line))
		}
	}
	if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
		t.Fatal("bare LF in message")
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot read the message: %v\n%s", err, raw)
	}
	p := &parsed{Header: msg.Header, Files: map[string][]byte{}, FileTypes: map[string]string{}, Names: map[string]string{}}
	ap := &mail.AddressParser{WordDecoder: decoder}
	if p.From, err = ap.Parse(msg.Header.Get("From")); err != nil {
		t.Fatalf("From %q: %v", msg.Header.Get("From"), err)
	}
	if p.To, err = ap.ParseList(msg.Header.Get("To")); err != nil {
		t.Fatalf("To %q: %v", msg.Header.Get("To"), err)
	}
	if p.Subject, err = decoder.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("Subject: %v", err)
	}
	if msg.Header.Get("MIME-Version") != "1.0" {
		t.Errorf("MIME-Version = %q", msg.Header.Get("MIME-Version"))
	}
	p.TopType, _, _ = mime.ParseMediaType(msg.Header.Get("Content-Type"))
	p.walk(t, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), "", msg.Body)
	return p
}

func (p *parsed) walk(t *testing.T, ctype, cte, disp string, body io.Reader) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		t.Fatalf("Content-Type %q: %v", ctype, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart() // raw: we check the transfer encoding ourselves
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatalf("multipart: %v", err)
			}
			p.walk(t, part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"),
				part.Header.Get("Content-Disposition"), part)
		}
	}
	data := decodeCTE(t, cte, body)
	if disp != "" {
		_, dparams, err := mime.ParseMediaType(disp)
		if err != nil {
			t.Fatalf("Content-Disposition %q: %v", disp, err)
		}
		name := dparams["filename"]
		p.Files[name] = data
		p.FileTypes[name] = mt
		if p.Names[name], err = decoder.DecodeHeader(params["name"]); err != nil {
			t.Fatalf("name=%q: %v", params["name"], err)
		}
		return
	}
	cs := strings.ToLower(params["charset"])
	p.TextCharset = cs
	if cs == "iso-2022-jp" {
		if bytes.ContainsFunc(data, func(r rune) bool { return r >= 0x80 }) {
			t.Fatalf("ISO-2022-JP body has 8-bit bytes")
		}
		var err error
		if data, err = japanese.ISO2022JP.NewDecoder().Bytes(data); err != nil {
			t.Fatal(err)
		}
	}
	switch mt {
	case "text/plain":
		p.Text = string(data)
	case "text/html":
		p.HTML = string(data)
	default:
		t.Fatalf("unexpected part %s", mt)
	}
}

func decodeCTE(t *testing.T, cte string, r io.Reader) []byte {
	t.Helper()
	var err error
	var data []byte
	switch strings.ToLower(cte) {
	case "base64":
		data, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, r))
	case "quoted-printable":
		data, err = io.ReadAll(quotedprintable.NewReader(r))
	case "7bit", "":
		data, err = io.ReadAll(r)
	default:
		t.Fatalf("unexpected Content-Transfer-Encoding %q", cte)
	}
	if err != nil {
		t.Fatalf("%s body: %v", cte, err)
	}
	return data
}

// lf is the text as the user typed it, for comparing with what was sent
// (bodies go out with CRLF line breaks).
func lf(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

var pdf = bytes.Repeat([]byte("%PDF-1.7 \x00\x01\x02\xff binary"), 300)

func japaneseMessage(charset string) *Message {
	return &Message{
		From: Address{Name: "山田 太郎（営業部）", Addr: "taro@example.co.jp"},
		To: []Address{
			{Name: "佐藤 花子 様", Addr: "hanako@example.com"},
			{Name: "Suzuki, Ichiro", Addr: "ichiro@example.org"},
			{Addr: "plain@example.net"},
		},
		Subject: "【重要】年末年始の営業についてのお知らせ（12月29日から1月3日まで休業いたします）",
		Text:    "佐藤 花子 様\n\nいつもお世話になっております。\n年末年始は休業いたします。\n\n山田\n",
		HTML:    "<p>佐藤 花子 様</p>\n<p>いつもお世話になっております。</p>\n",
		Attachments: []Attachment{
			{Filename: "見積書_2026年度_最終版（改訂その二）.pdf", ContentType: "application/pdf", Data: pdf},
			{Filename: "report.csv", ContentType: "text/csv", Data: []byte("a,b\r\n1,2\r\n")},
			{Filename: "日本語.txt", Data: []byte("添付")},
		},
		Charset:   charset,
		MessageID: "",
		Date:      time.Date(2026, 11, 26, 14, 3, 0, 0, time.FixedZone("JST", 9*3600)),
		Headers:   map[string]string{"X-Bluemoon-Delivery": "d-42/r-7", "X-Note": "配信テスト"},
	}
}

func TestRoundTripJapanese(t *testing.T) {
	for _, cs := range []string{UTF8, ISO2022JP} {
		t.Run(cs, func(t *testing.T) {
			m := japaneseMessage(cs)
			raw, err := m.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			p := parse(t, raw)
			if p.From.Name != m.From.Name || p.From.Address != m.From.Addr {
				t.Errorf("From = %q <%s>", p.From.Name, p.From.Address)
			}
			if len(p.To) != len(m.To) {
				t.Fatalf("To has %d addresses, want %d", len(p.To), len(m.To))
			}
			for i, a := range m.To {
				if p.To[i].Name != a.Name || p.To[i].Address != a.Addr {
					t.Errorf("To #%d = %q <%s>, want %q <%s>", i+1, p.To[i].Name, p.To[i].Address, a.Name, a.Addr)
				}
			}
			if p.Subject != m.Subject {
				t.Errorf("Subject = %q\nwant      %q", p.Subject, m.Subject)
			}
			if note, _ := decoder.DecodeHeader(p.Header.Get("X-Note")); note != "配信テスト" {
				t.Errorf("X-Note = %q", note)
			}
			if p.Header.Get("X-Bluemoon-Delivery") != "d-42/r-7" {
				t.Errorf("X-Bluemoon-Delivery = %q", p.Header.Get("X-Bluemoon-Delivery"))
			}
			if lf(p.Text) != m.Text || lf(p.HTML) != m.HTML {
				t.Errorf("text = %q html = %q", p.Text, p.HTML)
			}
			if p.TextCharset != cs {
				t.Errorf("charset = %q, want %q", p.TextCharset, cs)
			}
			if p.TopType != "multipart/mixed" {
				t.Errorf("top type %s", p.TopType)
			}
			for _, a := range m.Attachments {
				got, ok := p.Files[a.Filename]
				if !ok {
					t.Errorf("attachment %q missing; got %v", a.Filename, keys(p.Files))
					continue
				}
				if !bytes.Equal(got, a.Data) {
					t.Errorf("attachment %q: content differs", a.Filename)
				}
				if p.Names[a.Filename] != a.Filename {
					t.Errorf("attachment %q: name= decodes to %q", a.Filename, p.Names[a.Filename])
				}
			}
			if p.FileTypes["日本語.txt"] != "application/octet-stream" {
				t.Errorf("default type = %q", p.FileTypes["日本語.txt"])
			}
			d, err := p.Header.Date()
			if err != nil || !d.Equal(m.Date) {
				t.Errorf("Date = %v, %v", d, err)
			}
			id := p.Header.Get("Message-ID")
			if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.co.jp>") {
				t.Errorf("Message-ID %q does not carry the sender's domain", id)
			}
			checkHeaderLines(t, raw)
		})
	}
}

// checkHeaderLines: header lines folded at 76 characters, and (for
// ISO-2022-JP) every encoded word a complete ISO-2022-JP sequence that
// ends in ASCII.
func checkHeaderLines(t *testing.T, raw []byte) {
	t.Helper()
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(line) > 78 && strings.Contains(line, "=?") {
			t.Errorf("header line longer than 78 with encoded words: %q", line)
		}
		for _, w := range strings.Fields(line) {
			if !strings.HasPrefix(w, "=?ISO-2022-JP?B?") {
				continue
			}
			w = strings.TrimRight(w, ",")
			enc := strings.TrimSuffix(strings.TrimPrefix(w, "=?ISO-2022-JP?B?"), "?=")
			jis, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				t.Fatalf("word %q: %v", w, err)
			}
			if i := bytes.LastIndexByte(jis, 0x1b); i >= 0 && !bytes.HasPrefix(jis[i:], []byte("\x1b(B")) {
				t.Errorf("word %q does not end in ASCII: % x", w, jis)
			}
			if len(w) > 75 {
				t.Errorf("encoded word longer than 75: %q", w)
			}
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestShapes(t *testing.T) {
	base := func() *Message {
		return &Message{From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Subject: "Hello"}
	}
	cases := []struct {
		name    string
		edit    func(*Message)
		top     string
		wantCTE string
	}{
		{"text only ASCII", func(m *Message) { m.Text = "Hi there\nbye" }, "text/plain", "7bit"},
		{"text mostly ASCII", func(m *Message) { m.Text = "Hello Bob, the price is 5€ this week, not more and not less." }, "text/plain", "quoted-printable"},
		{"text Japanese", func(m *Message) { m.Text = "日本語の本文です。" }, "text/plain", "base64"},
		{"html only", func(m *Message) { m.HTML = "<b>hi</b>" }, "text/html", "7bit"},
		{"alternative", func(m *Message) { m.Text, m.HTML = "hi", "<b>hi</b>" }, "multipart/alternative", ""},
		{"attachment without text", func(m *Message) { m.Attachments = []Attachment{{Filename: "a.bin", Data: []byte{1, 2}}} }, "multipart/mixed", ""},
		{"jis text", func(m *Message) { m.Charset = "ISO-2022-JP"; m.Text = "日本語" }, "text/plain", "7bit"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := base()
			c.edit(m)
			raw, err := m.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			p := parse(t, raw)
			if p.TopType != c.top {
				t.Errorf("type %s, want %s", p.TopType, c.top)
			}
			if c.wantCTE != "" && !strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), c.wantCTE) {
				t.Errorf("CTE %q, want %q", p.Header.Get("Content-Transfer-Encoding"), c.wantCTE)
			}
			if lf(p.Text) != m.Text || lf(p.HTML) != m.HTML {
				t.Errorf("text %q html %q", p.Text, p.HTML)
			}
		})
	}
}

func TestISO2022JPRefusesWhatItCannotCarry(t *testing.T) {
	cases := []struct {
		edit  func(*Message)
		field string
		char  rune
		where string
	}{
		{func(m *Message) { m.Subject = "ご案内 🎉 です" }, "Subject", '🎉', "character 5"},
		{func(m *Message) { m.Text = "一行目\n二行目に 한국어" }, "Text", '한', "line 2, column 6"},
		{func(m *Message) { m.From.Name = "ﾊﾞﾅﾅ♡商事" }, "From name", '♡', "character 5"},
		{func(m *Message) { m.Headers = map[string]string{"X-Note": "メモ ✓"} }, "Header X-Note", '✓', "character 4"},
		{func(m *Message) { m.To[0].Name = "Zoë" }, "To #1 name", 'ë', "character 3"},
		{func(m *Message) { m.HTML = "<p>𠮷野家</p>" }, "HTML", '𠮷', "line 1, column 4"},
	}
	for _, c := range cases {
		m := &Message{From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Subject: "件名", Text: "本文", Charset: ISO2022JP}
		c.edit(m)
		_, err := m.Bytes()
		var ce *CharsetError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: err = %v, want *CharsetError", c.field, err)
		}
		if ce.Field != c.field || ce.Char != c.char {
			t.Errorf("got field %q char %q, want %q %q", ce.Field, ce.Char, c.field, c.char)
		}
		msg := err.Error()
		if !strings.Contains(msg, c.field) || !strings.Contains(msg, string(c.char)) || !strings.Contains(msg, c.where) {
			t.Errorf("error %q does not name field %q, char %q and %q", msg, c.field, c.char, c.where)
		}

		m.FallbackUTF8 = true
		raw, err := m.Bytes()
		if err != nil {
			t.Fatalf("%s with fallback: %v", c.field, err)
		}
		p := parse(t, raw)
		if p.TextCharset != UTF8 || p.Subject != m.Subject || p.From.Name != m.From.Name || lf(p.Text) != m.Text {
			t.Errorf("%s fallback: charset %q subject %q from %q text %q", c.field, p.TextCharset, p.Subject, p.From.Name, p.Text)
		}
	}
}

// ISO-2022-JP (RFC 1468) has no half-width katakana; Japanese users expect
// them widened, with ﾞ and ﾟ joined to the kana before them, rather than
// the message refused. UTF-8 carries them as typed.
func TestISO2022JPWidensHalfwidthKatakana(t *testing.T) {
	m := &Message{From: Address{Name: "ｶﾌﾞｼｷｶﾞｲｼｬ ﾌﾞﾙｰﾑｰﾝ", Addr: "a@example.com"}, To: []Address{{Name: "ｻﾄｳ ﾊﾅｺ 様", Addr: "b@example.com"}},
		Subject:     "ﾊﾟｿｺﾝ教室｢ｾﾐﾅｰ｣のご案内｡ｳﾞｨﾝﾃｰｼﾞ",
		Text:        "ﾎﾟｲﾝﾄ: ﾜﾞ ﾞ ｦ\nｱｲｳｴｵ ｶﾞｷﾞｸﾞｹﾞｺﾞ ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ\n",
		Attachments: []Attachment{{Filename: "ｶﾀﾛｸﾞ.pdf", Data: []byte("x")}}, Charset: ISO2022JP}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("\x1b(I")) {
		t.Error("JIS X 0201 katakana escape (ESC ( I) in the message")
	}
	p := parse(t, raw)
	if p.TextCharset != ISO2022JP {
		t.Fatalf("charset %q", p.TextCharset)
	}
	if p.From.Name != "カブシキガイシャ ブルームーン" || p.To[0].Name != "サトウ ハナコ 様" {
		t.Errorf("From %q To %q", p.From.Name, p.To[0].Name)
	}
	if p.Subject != "パソコン教室「セミナー」のご案内。ヴィンテージ" {
		t.Errorf("Subject %q", p.Subject)
	}
	// ヷ is not in JIS X 0208: ﾜﾞ is ワ and a spacing ゛, as is a lone ﾞ.
	if want := "ポイント: ワ゛ ゛ ヲ\nアイウエオ ガギグゲゴ パピプペポ\n"; lf(p.Text) != want {
		t.Errorf("Text %q, want %q", lf(p.Text), want)
	}
	// A file name is not changed: it goes as UTF-8 in name= too.
	if p.Names["ｶﾀﾛｸﾞ.pdf"] != "ｶﾀﾛｸﾞ.pdf" {
		t.Errorf("attachment names %v", p.Names)
	}

	for r := rune(0xff61); r <= 0xff9f; r++ {
		if _, bad := appendJIS(nil, string(r), false); bad >= 0 {
			t.Errorf("%q (U+%04X) alone is not widened to a JIS X 0208 character", r, r)
		}
	}

	m.Charset = UTF8
	raw, err = m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if p := parse(t, raw); p.Subject != m.Subject || lf(p.Text) != m.Text || p.From.Name != m.From.Name {
		t.Errorf("UTF-8 changed the text: subject %q text %q from %q", p.Subject, p.Text, p.From.Name)
	}
}

// A wave dash typed on a Mac (U+301C) and on Windows (U+FF5E) are the
// same JIS character: both must go out, as JIS 0x2141.
func TestISO2022JPWaveDash(t *testing.T) {
	m := &Message{From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}},
		Subject: "10時〜12時", Text: "9時～17時 − 休憩", Charset: ISO2022JP}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, raw)
	if p.Subject != "10時～12時" || lf(p.Text) != "9時～17時 － 休憩" {
		t.Errorf("subject %q text %q", p.Subject, p.Text)
	}
	if !bytes.Contains(raw, []byte("!A\x1b(B17")) {
		t.Error("body does not carry JIS 0x2141")
	}
}

func TestISO2022JPLongLinesStayUnder998(t *testing.T) {
	long := strings.Repeat("長い行", 400) // 1,200 characters, 2,400+ bytes in JIS
	m := &Message{From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Text: long, Charset: ISO2022JP}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if p := parse(t, raw); p.Text != long { // parse also checks the 998 limit
		t.Errorf("long text changed")
	}
}

func TestBadInputNamesTheField(t *testing.T) {
	cases := map[string]*Message{
		"From address":     {From: Address{Addr: "not-an-address"}, To: []Address{{Addr: "b@example.com"}}},
		"no To address":    {From: Address{Addr: "a@example.com"}},
		"To #2 address":    {From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}, {Addr: "x y@z"}}},
		"header X-A":       {From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Headers: map[string]string{"X-A": "a\r\nBcc: evil@example.com"}},
		"charset \"sjis\"": {From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Charset: "sjis"},
		"header Subject":   {From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Headers: map[string]string{"Subject": "x"}},
		"To #1 address":    {From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "花子@例え.jp"}}},
	}
	for want, m := range cases {
		_, err := m.Bytes()
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
		}
	}
}

func TestMessageIDsDiffer(t *testing.T) {
	a, b := NewMessageID("x@example.org"), NewMessageID("x@example.org")
	if a == b || !strings.HasSuffix(a, "@example.org") {
		t.Errorf("ids %q %q", a, b)
	}
}

func TestVeryLongWordInSubject(t *testing.T) {
	subj := "token " + strings.Repeat("x", 1200) + " end"
	m := &Message{From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Subject: subj, Text: "x"}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if p := parse(t, raw); p.Subject != subj { // parse checks the 998 limit
		t.Errorf("subject changed")
	}
}

func TestPlainHeadersFoldAndRoundTrip(t *testing.T) {
	subj := strings.TrimSpace(strings.Repeat("Quarterly newsletter for our valued customers ", 4))
	m := &Message{From: Address{Name: `Acme "Sales" Team`, Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}},
		Subject: subj, Text: "x"}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, raw)
	if p.Subject != subj || p.From.Name != m.From.Name {
		t.Errorf("subject %q from %q", p.Subject, p.From.Name)
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, l := range strings.Split(string(head), "\r\n") {
		if len(l) > 78 {
			t.Errorf("line not folded: %q", l)
		}
	}
}

// An attachment name ISO-2022-JP cannot carry does not fail the message:
// filename* is UTF-8 anyway and name= falls back to a UTF-8 word. An
// empty file is still a file.
func TestAttachmentNamesOutsideJIS(t *testing.T) {
	m := &Message{From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Text: "本文", Charset: ISO2022JP,
		Attachments: []Attachment{{Filename: "🎉パーティー.png", ContentType: "image/png", Data: []byte{0x89, 'P', 'N', 'G'}},
			{Filename: "空.txt", Data: nil}}}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	p := parse(t, raw)
	if p.TextCharset != ISO2022JP {
		t.Errorf("charset %q", p.TextCharset)
	}
	for _, a := range m.Attachments {
		got, ok := p.Files[a.Filename]
		if !ok || !bytes.Equal(got, a.Data) || p.Names[a.Filename] != a.Filename {
			t.Errorf("%q: present %v, content %q, name= %q", a.Filename, ok, got, p.Names[a.Filename])
		}
	}
}

// The Date field is RFC 1123 with a numeric zone, whatever the zone.
func TestDateField(t *testing.T) {
	for _, d := range []time.Time{
		time.Date(2026, 11, 26, 14, 3, 9, 0, time.FixedZone("JST", 9*3600)),
		time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -(3*3600+30*60))),
		time.Date(2026, 3, 1, 5, 6, 7, 0, time.FixedZone("", 5*3600+45*60)),
	} {
		m := &Message{From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Text: "x", Date: d}
		raw, err := m.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		want := "\r\nDate: " + d.Format(time.RFC1123Z) + "\r\n"
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("no %q in\n%s", want, raw)
		}
	}
}

// Every kind of line break goes out as CRLF, in each transfer encoding.
func TestLineBreaksBecomeCRLF(t *testing.T) {
	for _, text := range []string{
		"one\ntwo\r\nthree\rfour\n",   // 7bit
		"Zoë\ntwo\r\nthree\rfour\n\n", // quoted-printable
		"日本語\n二行目\r\n三行目\r四行目",        // base64
	} {
		for _, cs := range []string{UTF8, ISO2022JP} {
			m := &Message{From: Address{Addr: "a@example.com"}, To: []Address{{Addr: "b@example.com"}}, Text: text, Charset: cs, FallbackUTF8: true}
			raw, err := m.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			want := strings.NewReplacer("\r\n", "\r\n", "\n", "\r\n", "\r", "\r\n").Replace(text)
			if p := parse(t, raw); p.Text != want {
				t.Errorf("%s %q: text %q, want %q", cs, text, p.Text, want)
			}
		}
	}
}
