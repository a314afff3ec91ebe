package web_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// A file that is not a credential file, or is far too large to be one, is
// refused in the page's language, saying which, with no formatting debris
// (a catalogue message that names no field must not be given one).
func TestImportingTheWrongFileSaysSoInThePagesLanguage(t *testing.T) {
	c := startConsole(t)
	for _, tc := range []struct {
		lang, name string
		data       []byte
		want       string
	}{
		{"en", "memo.txt", []byte("hello\n"), "This is not a bluemoon credential file."},
		{"ja", "memo.txt", []byte("hello\n"), "bluemoon の資格情報ファイルではありません。"},
		{"en", "big.bmcred", bytes.Repeat([]byte("x"), 1<<20+10), "The file is too large to be a credential file (at most 1 MiB)."},
		{"ja", "big.bmcred", bytes.Repeat([]byte("x"), 1<<20+10), "資格情報ファイルとしては大きすぎます（最大 1 MiB）。"},
	} {
		s := c.session()
		s.hc.Transport = langTransport{tc.lang}
		code, page, _ := s.post("/oauth/import", map[string]string{"provider": "google"}, map[string]map[string][]byte{"file": {tc.name: tc.data}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, "<strong>"+tc.want+"</strong>") {
			t.Errorf("%s, %s: %d; want 422 saying %q\n%s", tc.lang, tc.name, code, tc.want, page)
		}
		if strings.Contains(page, "%!") {
			t.Errorf("%s, %s: the message has formatting debris:\n%s", tc.lang, tc.name, page)
		}
	}
}
