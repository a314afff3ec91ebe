package merge

import (
	"bytes"
	"testing"
)

// The delivery renders and composes one message per recipient: these are
// that cost, with the same kind of template as internal/delivery's engine
// benchmark (ASCII newsletter), a Japanese one in each charset, and one
// with a common attachment.
func benchmarkCompose(b *testing.B, spec Spec, common []Attachment, row []string) {
	spec.From = "news@example.com"
	tp, err := Compile(spec, []string{"email", "name", "company", "plan"}, 0, common)
	if err != nil {
		b.Fatal(err)
	}
	rnd := tp.NewRenderer()
	var c Content
	var buf bytes.Buffer
	env := Envelope{MessageID: "bm1.1.x@example.com", Headers: map[string]string{"X-Bluemoon-Delivery": "1"}}
	b.ReportAllocs()
	for b.Loop() {
		if err := rnd.Render(row, &c); err != nil {
			b.Fatal(err)
		}
		if err := tp.Compose(&c, env, &buf); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}

var (
	asciiSpec = Spec{
		Subject:  "{{.name}}, your {{.plan}} newsletter",
		Text:     "Dear {{.name}} of {{.company}},\n\nHere is what is new this month for your {{.plan}} plan.\n\nRegards,\nExample News\n",
		FromName: "Example News",
	}
	asciiRow  = []string{"user0000042@example.com", "Name 42", "Company 42", "plan-2"}
	japanRow  = []string{"taro@example.jp", "山田太郎", "株式会社ブルームーン", "スタンダード"}
	japanSpec = func(cs string) Spec {
		return Spec{
			Subject:  "{{.name}}様　{{.plan}}プラン 11月のお知らせ",
			Text:     "{{.company}}\n{{.name}}様\n\nいつもお世話になっております。\n{{.plan}}プランの今月の新着情報をお届けします。\n\n株式会社ブルームーン\n",
			HTML:     "<p>{{.company}}<br>{{.name}}様</p>\n<p>いつもお世話になっております。</p>\n<p>{{.plan}}プランの今月の新着情報をお届けします。</p>\n",
			Charset:  cs,
			FromName: "株式会社ブルームーン",
		}
	}
	terms = []Attachment{{Filename: "ご利用規約.pdf", ContentType: "application/pdf", Data: bytes.Repeat([]byte("%PDF-1.7 \x00\x01\x02\xff terms "), 2000)}}
)

func BenchmarkComposeASCII(b *testing.B) { benchmarkCompose(b, asciiSpec, nil, asciiRow) }
func BenchmarkComposeUTF8(b *testing.B)  { benchmarkCompose(b, japanSpec("utf-8"), nil, japanRow) }
func BenchmarkComposeISO2022JP(b *testing.B) {
	benchmarkCompose(b, japanSpec("iso-2022-jp"), nil, japanRow)
}
func BenchmarkComposeAttachment(b *testing.B) {
	benchmarkCompose(b, japanSpec("utf-8"), terms, japanRow)
}
