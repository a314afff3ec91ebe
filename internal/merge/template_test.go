package merge

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

var cols = []string{"email", "name", "note"}

func compile(t *testing.T, spec Spec) *Template {
	t.Helper()
	spec.From = "sender@example.com"
	tp, err := Compile(spec, cols, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

func TestHTMLEscapesMergedValues(t *testing.T) {
	tp := compile(t, Spec{Subject: "Hi {{.name}}", Text: "Dear {{.name}}", HTML: "<p>Dear {{.name}}</p>"})
	var c Content
	if err := tp.NewRenderer().Render([]string{"a@example.com", "<b>Bob</b> & co", ""}, &c); err != nil {
		t.Fatal(err)
	}
	if c.HTML != "<p>Dear &lt;b&gt;Bob&lt;/b&gt; &amp; co</p>" || c.Text != "Dear <b>Bob</b> & co" || c.Subject != "Hi <b>Bob</b> & co" {
		t.Fatalf("%+v", c)
	}
}

func TestEmptyPrintedFieldIsRowError(t *testing.T) {
	tp := compile(t, Spec{Subject: "Hi", Text: "Dear {{.name}}{{if .note}} ({{.note}}){{end}}"})
	var c Content
	err := tp.NewRenderer().Render([]string{"a@example.com", "", ""}, &c)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "name" {
		t.Fatalf("err %v", err)
	}
	if err := tp.NewRenderer().Render([]string{"a@example.com", "Ann", ""}, &c); err != nil || c.Text != "Dear Ann" {
		t.Fatalf("optional field: %v %q", err, c.Text)
	}
}

// A column printed as {{index . "company name"}} (the way to write a name
// that is not an identifier) is as required as one printed {{.name}}: an
// empty cell is an error for the row, named by its column; inside a
// condition it may be empty.
func TestEmptyIndexedFieldIsRowError(t *testing.T) {
	tp, err := Compile(Spec{From: "sender@example.com", Subject: "Hi", Text: `Dear {{index . "full name"}}{{if index . "note x"}} ({{index . "note x"}}){{end}}`},
		[]string{"email", "full name", "note x"}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c Content
	err = tp.NewRenderer().Render([]string{"a@example.com", " ", ""}, &c)
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "full name" || !errors.Is(err, ErrFieldEmpty) {
		t.Fatalf("err %v", err)
	}
	if err := tp.NewRenderer().Render([]string{"a@example.com", "Ann Lee", ""}, &c); err != nil || c.Text != "Dear Ann Lee" {
		t.Fatalf("optional field: %v %q", err, c.Text)
	}
}

func TestUnknownFieldRefusedAtCompile(t *testing.T) {
	_, err := Compile(Spec{Subject: "Hi {{.nmae}}", Text: "x", From: "a@example.com"}, cols, 0, nil)
	if err == nil || !strings.Contains(err.Error(), "{{.nmae}}") {
		t.Fatalf("err %v", err)
	}
}

// decodeMessage parses raw as a reader would and returns subject and the
// text of each part, decoded to UTF-8.
func decodeMessage(t *testing.T, raw []byte) (subject string, parts []string, charsets []string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	dec := mime.WordDecoder{CharsetReader: charsetReader}
	subject, err = dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(h map[string][]string, body io.Reader)
	walk = func(h map[string][]string, body io.Reader) {
		hdr := mail.Header(h)
		mt, params, _ := mime.ParseMediaType(hdr.Get("Content-Type"))
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(p.Header, p)
			}
		}
		data, _ := io.ReadAll(body)
		if hdr.Get("Content-Transfer-Encoding") == "base64" {
			data, _ = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(data)))
		}
		if strings.EqualFold(params["charset"], "iso-2022-jp") {
			data, _ = japanese.ISO2022JP.NewDecoder().Bytes(data)
		}
		parts = append(parts, string(data))
		charsets = append(charsets, strings.ToLower(params["charset"]))
	}
	walk(m.Header, m.Body)
	return
}

func isASCII7(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 || c == 0 {
			return false
		}
	}
	return true
}

func charsetReader(cs string, r io.Reader) (io.Reader, error) {
	if strings.EqualFold(cs, "iso-2022-jp") {
		return japanese.ISO2022JP.NewDecoder().Reader(r), nil
	}
	return r, nil
}

func TestComposeJapanese(t *testing.T) {
	for _, cs := range []string{"iso-2022-jp", "utf-8"} {
		tp := compile(t, Spec{Subject: "{{.name}}様　ご案内のお知らせ（長い件名を分割して送るための試験です）", Text: "{{.name}}様\nこんにちは。\n", HTML: "<p>{{.name}}様</p>", Charset: cs, FromName: "山田商事"})
		var c Content
		if err := tp.NewRenderer().Render([]string{"a@example.com", "山田太郎", ""}, &c); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := tp.Compose(&c, Envelope{}, &buf); err != nil {
			t.Fatal(err)
		}
		subj, parts, charsets := decodeMessage(t, buf.Bytes())
		if subj != "山田太郎様　ご案内のお知らせ（長い件名を分割して送るための試験です）" {
			t.Errorf("%s: subject %q", cs, subj)
		}
		if len(parts) != 2 || parts[0] != "山田太郎様\r\nこんにちは。\r\n" || !strings.Contains(parts[1], "<p>山田太郎様</p>") || charsets[0] != cs {
			t.Errorf("%s: parts %q charsets %q", cs, parts, charsets)
		}
		for _, line := range strings.Split(buf.String(), "\r\n") {
			if len(line) > 998 {
				t.Fatalf("line of %d bytes", len(line))
			}
			if cs == "iso-2022-jp" && !isASCII7([]byte(line)) {
				t.Fatalf("8-bit byte in an ISO-2022-JP message: %q", line)
			}
		}
	}
}

func TestISO2022JPFallsBackToUTF8(t *testing.T) {
	tp := compile(t, Spec{Subject: "Hi", Text: "{{.name}} 🎉", Charset: "iso-2022-jp"})
	var c Content
	tp.NewRenderer().Render([]string{"a@example.com", "太郎", ""}, &c)
	var buf bytes.Buffer
	tp.Compose(&c, Envelope{}, &buf)
	_, parts, charsets := decodeMessage(t, buf.Bytes())
	if parts[0] != "太郎 🎉" || charsets[0] != "utf-8" {
		t.Fatalf("%q %q", parts, charsets)
	}
}

// The common attachment (encoded once, at Compile) and a row's own file
// arrive intact, with their Japanese names, in every message and charset.
func TestComposeAttachments(t *testing.T) {
	dir := t.TempDir()
	invoice := []byte("請求書 No.42\n")
	if err := os.WriteFile(filepath.Join(dir, "請求書_42.txt"), invoice, 0o600); err != nil {
		t.Fatal(err)
	}
	terms := Attachment{Filename: "ご利用規約.pdf", ContentType: "application/pdf", Data: bytes.Repeat([]byte("%PDF \x00\xff"), 500)}
	for _, cs := range []string{"utf-8", "iso-2022-jp"} {
		tp, err := Compile(Spec{Subject: "{{.name}}様", Text: "{{.name}}様\n", Charset: cs, AttachColumn: "note", AttachDir: dir, From: "sender@example.com"},
			cols, 0, []Attachment{terms})
		if err != nil {
			t.Fatal(err)
		}
		rnd := tp.NewRenderer()
		var c Content
		var buf bytes.Buffer
		for _, row := range [][]string{{"a@example.com", "太郎", "請求書_42.txt"}, {"b@example.com", "花子", ""}} {
			if err := rnd.Render(row, &c); err != nil {
				t.Fatal(err)
			}
			if err := tp.Compose(&c, Envelope{}, &buf); err != nil {
				t.Fatal(err)
			}
			files := attachedFiles(t, buf.Bytes())
			if !bytes.Equal(files["ご利用規約.pdf"], terms.Data) {
				t.Errorf("%s %s: common attachment missing or changed (files %d)", cs, row[0], len(files))
			}
			if got, ok := files["請求書_42.txt"]; ok != (row[2] != "") || ok && !bytes.Equal(got, invoice) {
				t.Errorf("%s %s: row attachment %q", cs, row[0], got)
			}
		}
	}
}

// attachedFiles returns the attachments of raw by file name, as Go's
// multipart reader (which reads RFC 2231 names) sees them.
func attachedFiles(t *testing.T, raw []byte) map[string][]byte {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.FileName() == "" {
			continue
		}
		data, _ := io.ReadAll(p)
		files[p.FileName()], err = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(data)))
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Templates of only text and {{.column}} are joined without text/template;
// the result must be what text/template prints, and anything more goes
// through text/template.
func TestPlainTemplatesRenderAsTextTemplate(t *testing.T) {
	row := []string{"a@example.com", "山田 <太郎> & \"co\"", "{{.name}} %v"}
	for _, c := range []struct {
		src    string
		joined bool
	}{
		{"Hello {{.name}}", true},
		{"{{.name}}{{.note}}{{.email}}", true},
		{"  {{- .name -}}  \n様\n{{ .note }}\n", true},
		{"no fields at all", true},
		{"{{/* a comment */}}Hi {{.name}}", true},
		{"{{if .note}}({{.note}}){{end}}", false},
		{`{{.name | printf "%q"}}`, false},
		{`{{index . "name"}}`, false},
		{"{{$x := .name}}{{$x}}", false},
	} {
		tp := compile(t, Spec{Subject: "s", Text: c.src})
		if (tp.textPlan != nil) != c.joined {
			t.Errorf("%q: joined %v, want %v", c.src, tp.textPlan != nil, c.joined)
		}
		var got Content
		if err := tp.NewRenderer().Render(row, &got); err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		data := map[string]string{}
		for i, col := range cols {
			data[col] = row[i]
		}
		if err := tp.text.Execute(&want, data); err != nil {
			t.Fatal(err)
		}
		if got.Text != want.String() {
			t.Errorf("%q: %q, text/template prints %q", c.src, got.Text, want.String())
		}
	}
}
