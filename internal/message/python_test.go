package message

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// pythonReads is what Python's email package (policy.default, the parser
// mail tools in Python use) makes of a message.
type pythonReads struct {
	Subject  string `json:"subject"`
	FromName string `json:"from_name"`
	Parts    []struct {
		Type    string `json:"type"`
		Charset string `json:"charset"`
		Text    string `json:"text"`
		File    string `json:"file"`
	} `json:"parts"`
	Defects []string `json:"defects"`
}

const pythonReader = `
import email, email.policy, json, sys
res = []
for path in sys.argv[1:]:
    m = email.message_from_bytes(open(path, 'rb').read(), policy=email.policy.default)
    out = {'subject': str(m['subject']), 'from_name': m['from'].addresses[0].display_name, 'parts': [], 'defects': [repr(d) for d in m.defects]}
    for p in m.walk():
        if p.is_multipart():
            continue
        d = {'type': p.get_content_type(), 'charset': p.get_content_charset() or '', 'text': '', 'file': p.get_filename() or ''}
        if p.get_content_maintype() == 'text':
            d['text'] = p.get_content()
        out['defects'] += [repr(x) for x in p.defects]
        out['parts'].append(d)
    res.append(out)
print(json.dumps(res))
`

// readWithPython writes each message to a file and has Python's email
// read them (one python3 for all: it is slow to start); the test is
// skipped, saying so, where there is no python3.
func readWithPython(t *testing.T, raws ...[]byte) []pythonReads {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: cannot check that Python's email decodes our ISO-2022-JP")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "read.py")
	os.WriteFile(script, []byte(pythonReader), 0o600)
	args := []string{script}
	for i, raw := range raws {
		eml := filepath.Join(dir, fmt.Sprintf("m%d.eml", i))
		os.WriteFile(eml, raw, 0o600)
		args = append(args, eml)
	}
	out, err := exec.Command(py, args...).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("python3 could not read the messages: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var r []pythonReads
	if err := json.Unmarshal(out, &r); err != nil || len(r) != len(raws) {
		t.Fatalf("%v: %s", err, out)
	}
	return r
}

// jisSpelling maps the characters Windows and Macs spell differently for
// the same JIS X 0208 code to one spelling: a decoder shows its own.
var jisSpelling = strings.NewReplacer(
	"\uFF5E", "\u301C", "\uFF0D", "\u2212", "\u2225", "\u2016", "\u2015", "\u2014",
	"\uFFE0", "\u00A2", "\uFFE1", "\u00A3", "\uFFE2", "\u00AC")

// Every character bluemoon writes in ISO-2022-JP — all of JIS X 0208, in
// the body, and a sample in the subject, From name and a file name — is
// read back by Python's email exactly (up to the spellings above), with
// no defect and no replacement character.
func TestISO2022JPReadByPythonEmail(t *testing.T) {
	tb := jisOnce()
	var body strings.Builder
	n := 0
	for r := rune(0x80); r < 0x10000; r++ {
		if tb.code[r] == 0 || isHalfwidthKatakana(r) {
			continue
		}
		body.WriteRune(r)
		if n++; n%40 == 0 {
			body.WriteString("\n")
		}
	}
	if n < 6879 {
		t.Fatalf("only %d characters in the table: JIS X 0208 has 6,879", n)
	}
	m := &Message{
		From:        Address{Name: "株式会社ブルームーン 営業部", Addr: "info@example.jp"},
		To:          []Address{{Addr: "taro@example.jp"}},
		Subject:     "【ご案内】山田太郎様、十二月の請求書（第３期）をお送りします〜ご確認ください",
		Text:        body.String(),
		HTML:        "<p>髪の毛が～伸びた−ABC</p>",
		Attachments: []Attachment{{Filename: "請求書　十二月分.pdf", ContentType: "application/pdf", Data: []byte("%PDF")}},
		Charset:     ISO2022JP,
	}
	raw, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	got := readWithPython(t, raw)[0]
	if len(got.Defects) > 0 {
		t.Errorf("Python found defects: %v", got.Defects)
	}
	same := func(what, got, want string) {
		t.Helper()
		got, want = jisSpelling.Replace(strings.ReplaceAll(got, "\r\n", "\n")), jisSpelling.Replace(want)
		if got == want {
			return
		}
		gr, wr := []rune(got), []rune(want)
		for i := range min(len(gr), len(wr)) {
			if gr[i] != wr[i] {
				t.Errorf("%s: character %d reads as %q (U+%04X), sent %q (U+%04X)", what, i+1, gr[i], gr[i], wr[i], wr[i])
				return
			}
		}
		t.Errorf("%s: %d characters read, %d sent", what, len(gr), len(wr))
	}
	same("subject", got.Subject, m.Subject)
	same("From name", got.FromName, m.From.Name)
	if len(got.Parts) != 3 {
		t.Fatalf("parts %+v", got.Parts)
	}
	for _, p := range got.Parts[:2] {
		if p.Charset != "iso-2022-jp" {
			t.Errorf("%s part in %q", p.Type, p.Charset)
		}
	}
	same("text body", got.Parts[0].Text, m.Text)
	same("HTML body", got.Parts[1].Text, m.HTML)
	same("file name", got.Parts[2].File, m.Attachments[0].Filename)
	if strings.ContainsRune(got.Parts[0].Text, utf8.RuneError) {
		t.Error("a replacement character in the body")
	}
}

// Characters outside JIS X 0208 — NEC's ①, ㈱, the IBM 髙, an emoji — are
// never written as ISO-2022-JP a standard reader cannot decode: the
// message goes as UTF-8, says which character made it, and Python reads
// it exactly.
func TestOutsideJISX0208GoesAsUTF8(t *testing.T) {
	inputs := []string{"髙橋様", "①お申し込み", "㈱ブルームーン", "№12", "ﾊﾞﾅﾅ🍌"}
	var msgs []*Message
	var raws [][]byte
	for _, s := range inputs {
		m := &Message{From: Address{Name: "ブルームーン", Addr: "info@example.jp"}, To: []Address{{Addr: "a@example.jp"}},
			Subject: s + "へのお知らせ", Text: "本文 " + s + "\n", Charset: ISO2022JP, FallbackUTF8: true}
		var b bytes.Buffer
		fb, err := m.WriteBufferFallback(&b)
		if err != nil {
			t.Fatal(err)
		}
		first, _ := utf8.DecodeRuneInString(strings.TrimPrefix(s, "ﾊﾞﾅﾅ"))
		if fb == nil || fb.Char != first || fb.Field != "Subject" {
			t.Errorf("%q: fallback %+v, want %q in the Subject", s, fb, first)
		}
		msgs, raws = append(msgs, m), append(raws, b.Bytes())
	}
	for i, got := range readWithPython(t, raws...) {
		m := msgs[i]
		if got.Subject != m.Subject || got.Parts[0].Charset != "utf-8" || strings.ReplaceAll(got.Parts[0].Text, "\r\n", "\n") != m.Text {
			t.Errorf("%q: Python read subject %q, %s body %q", inputs[i], got.Subject, got.Parts[0].Charset, got.Parts[0].Text)
		}
	}
}
