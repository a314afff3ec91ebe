package web_test

import (
	"net/http"
	"strings"
	"testing"

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
