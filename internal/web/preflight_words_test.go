package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// The check step words the preflight's problems and notes in the page's
// language: a bad address, a name the message prints left empty, a
// character ISO-2022-JP lacks — not the core's English.
func TestCheckStepSaysProblemsInJapanese(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	list := "氏名,email\n髙橋 一郎,takahashi@example.jp\n,noname@example.jp\n山田,not-an-address\n佐藤,sato@example.jp\n"
	_, _, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"会員.csv": []byte(list)}})
	m := draftPath.FindStringSubmatch(at)
	if m == nil {
		t.Fatalf("upload: at %s", at)
	}
	base := "/drafts/" + m[1]
	if code, page, _ := s.post(base+"/message", map[string]string{"account": "relay", "subject": "{{.氏名}} 様", "text": "{{.氏名}} 様\nお知らせです。\n",
		"charset": "iso-2022-jp", "action": "next"}, nil); code != http.StatusOK {
		t.Fatalf("message: %d\n%s", code, page)
	}
	code, page := s.get(base + "/check")
	if code != http.StatusOK {
		t.Fatalf("check: %d\n%s", code, page)
	}
	for _, want := range []string{
		"3 行目: 「氏名」列が空ですが、メッセージで使っています",
		"4 行目: 「not-an-address」はメールアドレスの形式ではありません",
		"1 通は ISO-2022-JP ではなく UTF-8 で送ります",
		"2 行目: 件名に ISO-2022-JP にない文字「髙」があるため",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the check step lacks %q", want)
		}
	}
	for _, english := range []string{"is empty but the template prints it", "is not an e-mail address", "goes as UTF-8"} {
		if strings.Contains(page, english) {
			t.Errorf("the Japanese check step says %q", english)
		}
	}
}

// A UTF-8 list with one Shift_JIS cell (rows pasted from another file):
// the list step says which column and what to do, in Japanese.
func TestListStepSaysNotUTF8InJapanese(t *testing.T) {
	c := startConsole(t)
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	sato, _ := japanese.ShiftJIS.NewEncoder().String("佐藤")
	var b strings.Builder
	b.WriteString("氏名,email\n")
	for i := range 3000 { // past the 64 KB the reader looks at first
		fmt.Fprintf(&b, "山田 %d,y%d@example.jp\n", i, i)
	}
	b.WriteString(sato + ",sato@example.jp\n")
	_, _, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"会員.csv": []byte(b.String())}})
	// The person says UTF-8, as it mostly is.
	_, page, _ := s.post(at, map[string]string{"encoding": "utf-8", "sheet": "", "email_column": "email"}, nil)
	if !strings.Contains(page, "「氏名」列のセルが UTF-8 の文字ではありません") || strings.Contains(page, "is not UTF-8 text") {
		t.Fatalf("the list step:\n%s", page)
	}
}
