package merge

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
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
			data, _ = b64.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(data)))
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
