package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
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

// postForm sends an urlencoded form as the console's own page would, and
// follows the redirect.
func (s *session) postForm(path string, form url.Values) (int, string, string) {
	s.t.Helper()
	form.Set("csrf", s.csrf)
	req, _ := http.NewRequest("POST", s.c.srv.BaseURL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", s.c.srv.BaseURL())
	resp, err := s.hc.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, body(s.t, resp), resp.Request.URL.Path
}

// invalidInput is the attribute the form puts on the input a refusal names.
func invalidInput(page, id string) bool {
	return regexp.MustCompile(`<input [^>]*id="` + regexp.QuoteMeta(id) + `"[^>]*aria-invalid="true"`).MatchString(page)
}

// A refused account form names the input that is wrong and says what to
// put there, in the page's language, and keeps what was typed.
func TestAccountFormSaysWhichFieldIsWrongAndWhatToDo(t *testing.T) {
	c := startConsole(t)
	good := func() url.Values {
		return url.Values{"name": {"office"}, "from": {"news@example.jp"}, "from_name": {"営業部"}, "auth_choice": {"none"},
			"smtp_host": {"smtp.example.jp"}, "smtp_port": {"587"}, "security": {"starttls"}}
	}
	for _, tc := range []struct {
		field, value, input string
		want                map[string]string // by language
	}{
		{"smtp_port", "70000", "smtp_port", map[string]string{"en": "The port is a number from 1 to 65535", "ja": "ポートは 1～65535 の数字"}},
		{"smtp_port", "0", "smtp_port", map[string]string{"en": "The port is a number from 1 to 65535", "ja": "ポートは 1～65535 の数字"}},
		{"smtp_host", "", "smtp_host", map[string]string{"en": "Enter the SMTP server", "ja": "SMTP サーバーを入力してください"}},
		{"per_minute", "-5", "per_minute", map[string]string{"en": "use 0 (no limit) or a positive whole number", "ja": "0（制限なし）以上の整数"}},
		{"per_day", "-1", "per_day", map[string]string{"en": "use 0 (no limit) or a positive whole number", "ja": "0（制限なし）以上の整数"}},
		{"connections", "-1", "connections", map[string]string{"en": "use 0 (no limit) or a positive whole number", "ja": "0（制限なし）以上の整数"}},
		{"per_connection", "-1", "per_connection", map[string]string{"en": "use 0 (no limit) or a positive whole number", "ja": "0（制限なし）以上の整数"}},
		{"from_name", "営業部\r\nBcc: x@example.com", "from_name", map[string]string{"en": "name cannot hold line breaks", "ja": "改行"}},
	} {
		for lang, want := range tc.want {
			s := c.session()
			s.hc.Transport = langTransport{lang}
			f := good()
			f.Set(tc.field, tc.value)
			code, page, _ := s.postForm("/accounts/new", f)
			if code != http.StatusUnprocessableEntity || !strings.Contains(page, want) || !invalidInput(page, tc.input) {
				t.Errorf("%s=%q (%s): %d; want 422 saying %q beside #%s\n%s", tc.field, tc.value, lang, code, want, tc.input, page)
				continue
			}
			for _, kept := range []string{`value="news@example.jp"`, `value="営業部`, `value="office"`} {
				if !strings.Contains(page, kept) {
					t.Errorf("%s=%q (%s): the form lost %s", tc.field, tc.value, lang, kept)
				}
			}
		}
	}
	if _, err := c.svc.Account(t.Context(), "office"); err == nil {
		t.Error("a refused form made the account")
	}
}

// readyDraft uploads a list of n rows and passes the message step; it
// returns the draft's address (/drafts/ID).
func readyDraft(t *testing.T, s *session, n int) string {
	t.Helper()
	code, page, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"list.csv": sjisList(t, n, nil)}})
	m := draftPath.FindStringSubmatch(at)
	if code != http.StatusOK || m == nil {
		t.Fatalf("upload: %d at %s\n%s", code, at, page)
	}
	base := "/drafts/" + m[1]
	code, page, at = s.post(base+"/message", map[string]string{"account": "relay", "subject": "{{.氏名}} 様へ", "text": "{{.氏名}} 様\n",
		"charset": "utf-8", "action": "next"}, nil)
	if code != http.StatusOK || at != base+"/preview" {
		t.Fatalf("message: %d at %s\n%s", code, at, page)
	}
	return base
}

// Pressing "Send" twice (a double click sends the form again before the
// first answer came) starts one delivery, and both answers show it.
func TestSendingTheSameDraftTwiceStartsOneDelivery(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	s := c.session()
	base := readyDraft(t, s, 3)

	var wg sync.WaitGroup
	at := make([]string, 3)
	for i := range at {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, page, where := s.post(base+"/send", map[string]string{"name": "twice"}, nil)
			if code != http.StatusOK {
				t.Errorf("send %d: %d at %s\n%s", i, code, where, page)
			}
			at[i] = where
		}()
	}
	wg.Wait()
	ds, err := c.svc.Deliveries(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("three presses of Send made %d deliveries, want 1 (answers at %v)", len(ds), at)
	}
	want := fmt.Sprintf("/deliveries/%d", ds[0].ID)
	for i, a := range at {
		if a != want {
			t.Errorf("press %d ended at %s, want the delivery's page %s", i, a, want)
		}
	}
	// Pressed again later (the page kept in a tab): still the same one.
	if code, page, a := s.post(base+"/send", map[string]string{"name": "twice"}, nil); code != http.StatusOK || a != want {
		t.Errorf("a later press: %d at %s, want the delivery's page %s\n%s", code, a, want, page)
	}
	if _, err := c.svc.WaitDelivery(t.Context(), ds[0].ID); err != nil {
		t.Fatal(err)
	}
	if n := ms.smtp.Accepted(); n != 3 {
		t.Errorf("the stand-in got %d messages, want 3", n)
	}
}

var onceRE = regexp.MustCompile(`name="once" value="([^"]+)"`)

// Pressing "Send" twice on a saved delivery's confirmation runs it once;
// a new visit to the confirmation runs it again (a saved delivery is
// meant to be run many times).
func TestRunningASavedDeliveryTwiceFromOnePageRunsItOnce(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	saveNews(t, c.svc, "news", "relay", 3)
	s := c.session()

	run := func() []string {
		_, page := s.get("/deliveries/saved/news/run")
		m := onceRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("the confirmation's form carries no one-time key:\n%s", page)
		}
		var wg sync.WaitGroup
		at := make([]string, 3)
		for i := range at {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, page, where := s.post("/deliveries/saved/news/run", map[string]string{"once": m[1]}, nil)
				if code != http.StatusOK {
					t.Errorf("run %d: %d at %s\n%s", i, code, where, page)
				}
				at[i] = where
			}()
		}
		wg.Wait()
		return at
	}
	first := run()
	ds, err := c.svc.Deliveries(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 {
		t.Fatalf("three presses of Send on one confirmation made %d deliveries, want 1 (answers at %v)", len(ds), first)
	}
	for i, a := range first {
		if want := fmt.Sprintf("/deliveries/%d", ds[0].ID); a != want {
			t.Errorf("press %d ended at %s, want %s", i, a, want)
		}
	}
	if _, err := c.svc.WaitDelivery(t.Context(), ds[0].ID); err != nil {
		t.Fatal(err)
	}
	run()
	if ds, _ := c.svc.Deliveries(t.Context()); len(ds) != 2 {
		t.Fatalf("a second visit to the confirmation made %d deliveries in all, want 2", len(ds))
	}
}

// A row with a stray double quote (株式会社"ABC" typed by hand) is said
// in the page's language with what to do, on the list step and the
// check step, not as the CSV reader's English.
func TestAListRowWithAStrayQuoteIsSaidInThePagesLanguage(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	list := []byte("email,会社\na@example.jp,株式会社\"ABC\"\nc@example.jp,普通\nb@example.jp,\"未完の引用\n")
	for lang, want := range map[string]string{"en": "a double quote (&#34;) is out of place", "ja": "ダブルクォート（&#34;）の位置が正しくありません"} {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		code, page, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"quotes.csv": list}})
		m := draftPath.FindStringSubmatch(at)
		if code != http.StatusOK || m == nil {
			t.Fatalf("%s: upload: %d at %s\n%s", lang, code, at, page)
		}
		if !strings.Contains(page, want) || strings.Contains(page, "quote in non-quoted-field") || strings.Contains(page, "in quoted-field") {
			t.Errorf("%s: the list step does not say %q of the stray quotes:\n%s", lang, want, page)
		}
		base := "/drafts/" + m[1]
		if code, page, _ := s.post(base+"/message", map[string]string{"account": "relay", "subject": "s", "text": "{{.会社}}\n",
			"charset": "utf-8", "action": "next"}, nil); code != http.StatusOK {
			t.Fatalf("%s: message: %d\n%s", lang, code, page)
		}
		if _, page := s.get(base + "/check"); !strings.Contains(page, want) || strings.Contains(page, "quote in non-quoted-field") {
			t.Errorf("%s: the check step does not say %q of the stray quotes:\n%s", lang, want, page)
		}
	}
}

// The preview of a row with a problem says the problem in the page's
// language, and a row with no recipient (past the end, typed into the
// row box) says so: not "row is not valid".
func TestPreviewOfARowWithoutAMessageSaysWhy(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	list := []byte("氏名,email\n一郎,ichiro@example.jp\n二郎,not-an-address\n三郎,saburo@example.jp,余分\n")
	for lang, want := range map[string][]string{
		"en": {"Row 3: “not-an-address” is not an e-mail address", "Row 4: has 3 cells, but the header has 2", "Row 9 holds no recipient"},
		"ja": {"3 行目: 「not-an-address」はメールアドレスの形式ではありません", "4 行目: セルが 3 個ありますが、見出しは 2 列です", "9 行目には宛先がありません"},
	} {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		_, _, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"会員.csv": list}})
		m := draftPath.FindStringSubmatch(at)
		if m == nil {
			t.Fatalf("upload: at %s", at)
		}
		base := "/drafts/" + m[1]
		if code, page, _ := s.post(base+"/message", map[string]string{"account": "relay", "subject": "{{.氏名}} 様", "text": "{{.氏名}} 様\n",
			"charset": "utf-8", "action": "next"}, nil); code != http.StatusOK {
			t.Fatalf("message: %d\n%s", code, page)
		}
		for i, row := range []string{"3", "4", "9"} {
			code, page := s.get(base + "/preview?row=" + row)
			if code != http.StatusUnprocessableEntity || !strings.Contains(page, want[i]) || strings.Contains(page, "row is not valid") || strings.Contains(page, "rowの値") {
				t.Errorf("%s: the preview of row %s: %d, want it to say %q\n%s", lang, row, code, want[i], page)
			}
		}
	}
}

// Scheduling from the check step with a day of the month past 28 names
// the day, beside its input, in the page's language, and keeps the form.
func TestCheckStepScheduleNamesAWrongDayOfTheMonth(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	for lang, want := range map[string]string{"en": "Give a day from 1 to 28", "ja": "日は 1〜28 で入力してください"} {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		base := readyDraft(t, s, 2)
		code, page, _ := s.post(base+"/schedule", map[string]string{"name": "monthly-" + lang, "when": "repeat", "every": "monthly", "time": "08:30", "day": "31"}, nil)
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, want) || !invalidInput(page, "day") {
			t.Errorf("%s: day 31: %d, want 422 saying %q beside #day\n%s", lang, code, want, page)
		}
		for _, kept := range []string{`value="monthly-` + lang + `"`, `value="08:30"`, `value="31"`} {
			if !strings.Contains(page, kept) {
				t.Errorf("%s: the form lost %s", lang, kept)
			}
		}
	}
}

// "Add to the list" pressed twice on one import (a double click) imports
// once: every answer shows the result of that import, not of a second run
// over a file the first was removing.
func TestImportingOneUploadTwiceAtOnceShowsOneResult(t *testing.T) {
	c := startConsole(t)
	s := c.session()
	var b strings.Builder
	b.WriteString("email,氏名\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "stop%04d@example.jp,会員 %d\n", i, i)
	}
	code, page, at := s.post("/suppression/import", nil, map[string]map[string][]byte{"list": {"停止.csv": []byte(b.String())}})
	if code != http.StatusOK || !strings.HasPrefix(at, "/suppression/import/") {
		t.Fatalf("upload: %d at %s\n%s", code, at, page)
	}
	var wg sync.WaitGroup
	pages := make([]string, 3)
	for i := range pages {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, page, where := s.post(at, map[string]string{"reason": "退会"}, nil)
			if code != http.StatusOK || where != at+"/result" {
				t.Errorf("import %d: %d at %s\n%s", i, code, where, page)
			}
			pages[i] = page
		}()
	}
	wg.Wait()
	for i, page := range pages {
		if !strings.Contains(page, `id="result-added">2,000<`) || !strings.Contains(page, `id="result-already">0<`) {
			t.Errorf("answer %d does not say the 2000 addresses were added:\n%s", i, page)
		}
	}
	if _, page := s.get(at + "/result"); !strings.Contains(page, `id="result-added">2,000<`) {
		t.Errorf("the result page does not say the 2000 addresses were added:\n%s", page)
	}
	if n, err := c.svc.SuppressionCount(t.Context()); err != nil || n != 2000 {
		t.Errorf("the list holds %d addresses (%v), want 2000", n, err)
	}
}

// A test send in ISO-2022-JP of a character it lacks (①, 髙) says which
// text holds which character and what to do, in the page's language, and
// keeps the subject typed.
func TestTestSendOfACharacterISO2022JPLacksSaysWhatToDo(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	for _, tc := range []struct {
		lang, subject, fromName string
		want                    []string
	}{
		{"en", "① のお知らせ", "", []string{"The subject has “①”, which ISO-2022-JP lacks", "choose UTF-8"}},
		{"ja", "① のお知らせ", "", []string{"件名に ISO-2022-JP にない文字「①」があります", "UTF-8 を選んでください"}},
		{"ja", "お知らせ", "髙橋", []string{"差出人名に ISO-2022-JP にない文字「髙」があります", "UTF-8 を選んでください"}},
	} {
		if tc.fromName != "" {
			if _, err := c.svc.EditAccount(t.Context(), "relay", core.AccountInput{FromName: &tc.fromName}); err != nil {
				t.Fatal(err)
			}
		}
		s := c.session()
		s.hc.Transport = langTransport{tc.lang}
		code, page, _ := s.postForm("/accounts/relay/test", url.Values{"to": {"me@example.jp"}, "subject": {tc.subject}, "charset": {"iso-2022-jp"}})
		if code != http.StatusUnprocessableEntity || strings.Contains(page, "is not valid") || strings.Contains(page, "の値が正しくありません") {
			t.Errorf("%s %q: %d\n%s", tc.lang, tc.subject, code, page)
		}
		for _, want := range append(tc.want, `value="`+tc.subject+`"`) {
			if !strings.Contains(page, want) {
				t.Errorf("%s %q: the page lacks %q\n%s", tc.lang, tc.subject, want, page)
			}
		}
	}
	if n := ms.smtp.Accepted(); n != 0 {
		t.Errorf("the stand-in got %d messages", n)
	}
}

// A form from before the browser logged in again (bluemoon console run
// once more, in another tab) is refused in the page's language, saying
// nothing was changed and what to do: not an English line of plain text.
func TestAStaleFormIsRefusedInThePagesLanguage(t *testing.T) {
	c := startConsole(t)
	for lang, want := range map[string]string{"en": "This page has expired", "ja": "この画面は古くなっています"} {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		stale := s.csrf
		// The same browser logs in again: its cookie is the new session's.
		resp, err := s.hc.Get(c.srv.LoginURL())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		s.csrf = stale
		code, page, _ := s.postForm("/suppression/add", url.Values{"address": {"stale@example.jp"}, "reason": {"x"}})
		if code != http.StatusForbidden || !strings.Contains(page, want) || !strings.Contains(page, `lang="`+lang+`"`) {
			t.Errorf("%s: a stale form: %d, want 403 saying %q\n%s", lang, code, want, page)
		}
		if n, _ := c.svc.SuppressionCount(t.Context()); n != 0 {
			t.Fatalf("%s: a stale form changed the list", lang)
		}
	}
}

// A recipients page asked for an outcome there is none of (an edited or
// old address) shows every recipient, as the CSV download does: not an
// error page with a 500.
func TestRecipientsOfAnUnknownOutcomeShowsThemAll(t *testing.T) {
	c := startConsole(t)
	id := pausedDelivery(t, c, `status = 'done'`)
	s := c.session()
	for _, state := range []string{"bogus", "<script>"} {
		code, page := s.get(fmt.Sprintf("/deliveries/%d/recipients?state=%s", id, url.QueryEscape(state)))
		if code != http.StatusOK || !strings.Contains(page, "r1@example.com") || strings.Contains(page, "<script>") {
			t.Errorf("state=%s: %d, want the page of every recipient\n%s", state, code, page)
		}
	}
}

// Choosing the wrong encoding for a list says what the file is and what
// to choose, beside the encoding, and keeps the list as it was read (its
// counts, the options form), on the wizard's list step and on an import
// into the do-not-mail list.
func TestChoosingTheWrongEncodingKeepsTheListAndSaysWhatToChoose(t *testing.T) {
	c := startConsole(t)
	utf8List := []byte("氏名,email\n髙橋 一郎,takahashi@example.jp\n佐藤,sato@example.jp\n")
	for _, tc := range []struct {
		lang, file, choose string
		data               []byte
		want               string
	}{
		{"ja", "utf8.csv", "shift_jis", utf8List, "このファイルは UTF-8 です"},
		{"en", "utf8.csv", "shift_jis", utf8List, "This file is UTF-8"},
		{"ja", "sjis.csv", "utf-8", sjisList(t, 3, nil), "このファイルは UTF-8 ではなく Shift_JIS です"},
		{"en", "sjis.csv", "utf-8", sjisList(t, 3, nil), "This file is Shift_JIS"},
	} {
		for _, upload := range []string{"/deliveries/new", "/suppression/import"} {
			s := c.session()
			s.hc.Transport = langTransport{tc.lang}
			code, page, at := s.post(upload, nil, map[string]map[string][]byte{"list": {tc.file: tc.data}})
			if code != http.StatusOK {
				t.Fatalf("%s: upload: %d at %s\n%s", upload, code, at, page)
			}
			options := at
			if upload == "/suppression/import" {
				options += "/options"
			}
			code, page, _ = s.post(options, map[string]string{"encoding": tc.choose, "email_column": "email", "sheet": ""}, nil)
			if code != http.StatusUnprocessableEntity || !strings.Contains(page, tc.want) {
				t.Errorf("%s %s, %s chosen: %d, want 422 saying %q\n%s", upload, tc.lang, tc.choose, code, tc.want, page)
			}
			if !regexp.MustCompile(`<select id="encoding"[^>]*aria-invalid="true"`).MatchString(page) {
				t.Errorf("%s %s, %s chosen: the encoding is not marked", upload, tc.lang, tc.choose)
			}
			for _, p := range []string{page, func() string { _, p := s.get(at); return p }()} {
				if !strings.Contains(p, `id="list-options"`) || !strings.Contains(p, "takahashi@example.jp") && !strings.Contains(p, "member002@example.jp") {
					t.Errorf("%s %s, %s chosen: the list as read before is gone\n%s", upload, tc.lang, tc.choose, p)
				}
			}
		}
	}
}

// Making a credential file with an endpoint that is not an https address
// names that endpoint and says to give one: not "enter the client ID",
// which was filled in.
func TestMakingACredentialFileWithABadEndpointNamesIt(t *testing.T) {
	c := startConsole(t)
	for _, tc := range []struct {
		lang, field, value, want string
	}{
		{"en", "auth_endpoint", "accounts.google.com/o/oauth2/v2/auth", "Give the authorization endpoint as an https:// address"},
		{"ja", "token_endpoint", "http://oauth2.example.com/token", "トークン取得エンドポイントは https:// で始まるアドレスで入力してください"},
		{"en", "tenant", "my tenant", "Use organizations, common or consumers"},
		{"ja", "tenant", "テナント", "organizations・common・consumers"},
	} {
		s := c.session()
		form := url.Values{"provider": {"google"}, "client_id": {"app.apps.example"}, "client_secret": {"secret"},
			"auth_endpoint": {"https://accounts.google.com/o/oauth2/v2/auth"}, "auth_scope": {"https://mail.google.com/"},
			"token_endpoint": {"https://oauth2.googleapis.com/token"}, "token_scope": {"https://mail.google.com/"}}
		form.Set(tc.field, tc.value)
		if tc.field == "tenant" {
			form.Set("provider", "microsoft")
		}
		req, _ := http.NewRequest("POST", c.srv.BaseURL()+"/credentials/create", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.srv.BaseURL())
		req.Header.Set("X-CSRF-Token", s.csrf)
		req.Header.Set("Accept-Language", tc.lang)
		resp, err := s.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Errors []fieldProblemJSON `json:"errors"`
		}
		b := body(t, resp)
		if err := json.Unmarshal([]byte(b), &got); err != nil || resp.StatusCode != http.StatusUnprocessableEntity || len(got.Errors) != 1 ||
			got.Errors[0].Field != tc.field || !strings.Contains(got.Errors[0].Message, tc.want) {
			t.Errorf("%s=%q (%s): %d %s; want the field named, saying %q", tc.field, tc.value, tc.lang, resp.StatusCode, b, tc.want)
		}
	}
}

type fieldProblemJSON struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

var uploadRE = regexp.MustCompile(`name="upload" value="([^"]+)"`)

// A fingerprint typed to pin the signer that is not one (pasted without
// its SHA256:, cut short) is named beside its field, in the page's
// language: not "something went wrong".
func TestImportingWithAMalformedFingerprintNamesIt(t *testing.T) {
	c := startConsole(t)
	data, _, err := c.svc.CreateCredentialFile(t.Context(), core.CreateInput{Provider: "google", ClientID: "app.apps.example", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"en": "That is not a fingerprint", "ja": "フィンガープリントの形式ではありません"} {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		_, page, _ := s.post("/oauth/import", map[string]string{"provider": "google"}, map[string]map[string][]byte{"file": {"google.bmcred": data}})
		m := uploadRE.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("%s: the import's second step is not shown:\n%s", lang, page)
		}
		code, page, _ := s.post("/oauth/import/confirm", map[string]string{"upload": m[1], "name": "google-" + lang, "trusted": "on", "trust": "abc123"}, nil)
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, want) || !invalidInput(page, "trust") {
			t.Errorf("%s: a malformed fingerprint: %d, want 422 saying %q beside #trust\n%s", lang, code, want, page)
		}
	}
	if list, _ := c.svc.Credentials(t.Context()); len(list) != 0 {
		t.Errorf("imported %d credential files", len(list))
	}
}

// A refused import step keeps what the person typed and ticked: the
// fingerprint, "I trust this signer", the name.
func TestARefusedImportKeepsWhatWasTyped(t *testing.T) {
	c := startConsole(t)
	data, made, err := c.svc.CreateCredentialFile(t.Context(), core.CreateInput{Provider: "google", ClientID: "app.apps.example", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.ImportCredentialFile(t.Context(), core.ImportInput{Source: "g.bmcred", Data: data, Name: "taken"}); err != nil {
		t.Fatal(err)
	}
	s := c.session()
	_, page, _ := s.post("/oauth/import", map[string]string{"provider": "google"}, map[string]map[string][]byte{"file": {"google.bmcred": data}})
	m := uploadRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the import's second step is not shown:\n%s", page)
	}
	code, page, _ := s.post("/oauth/import/confirm", map[string]string{"upload": m[1], "name": "taken", "trusted": "on", "trust": made.Signer}, nil)
	if code != http.StatusUnprocessableEntity || !invalidInput(page, "import-name") {
		t.Fatalf("a name taken: %d\n%s", code, page)
	}
	// html/template writes a "+" of the fingerprint as &#43; in an attribute.
	for _, kept := range []string{`value="` + strings.ReplaceAll(made.Signer, "+", "&#43;") + `"`, `name="trusted" value="on" checked`, `value="taken"`} {
		if !strings.Contains(page, kept) {
			t.Errorf("the refused step lost %s", kept)
		}
	}
}

// Saving a signature over the limit says so, beside the signature, and
// keeps the text typed: not "the file is too large to be a credential
// file" over an emptied box.
func TestATooLongSignatureSaysSoAndIsKept(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	sig := strings.Repeat("営業部 山田 太郎 03-1234-5678\n", 300)
	for lang, want := range map[string]string{"en": "The signature is too long", "ja": "署名が長すぎます"} {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		base := readyDraft(t, s, 2)
		code, page, _ := s.post(base+"/message", map[string]string{"account": "relay", "subject": "s", "text": "t", "charset": "utf-8",
			"use_signature": "on", "signature": sig, "action": "signature"}, nil)
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, want) || strings.Contains(page, "credential file") || strings.Contains(page, "資格情報") {
			t.Errorf("%s: a signature of %d bytes: %d, want 422 saying %q\n%s", lang, len(sig), code, want, page)
		}
		if !regexp.MustCompile(`<textarea id="signature"[^>]*aria-invalid="true"`).MatchString(page) || !strings.Contains(page, "営業部 山田 太郎 03-1234-5678\n営業部") {
			t.Errorf("%s: the signature typed is not kept, or not marked", lang)
		}
	}
	if info, _ := c.svc.Account(t.Context(), "relay"); info.Signature != "" {
		t.Errorf("the account kept a signature of %d bytes", len(info.Signature))
	}
}

// The account form's advanced fields say what to do when refused: a CA
// file with no certificate in it, a certificate and key that do not go
// together, an API way of sending with another provider's credential file.
func TestAccountFormAdvancedFieldsSayWhatToDo(t *testing.T) {
	c := startConsole(t)
	notPEM := writeFileT(t, "notpem.txt", []byte("hello\n"))
	if _, err := c.svc.ImportCredentialFile(t.Context(), core.ImportInput{Source: "g.bmcred", Name: "google-file", Data: func() []byte {
		d, _, err := c.svc.CreateCredentialFile(t.Context(), core.CreateInput{Provider: "google", ClientID: "app.apps.example", ClientSecret: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}()}); err != nil {
		t.Fatal(err)
	}
	plain := url.Values{"name": {"office"}, "from": {"news@example.jp"}, "auth_choice": {"none"}, "smtp_host": {"smtp.example.jp"}, "smtp_port": {"587"}, "security": {"starttls"}}
	with := func(base url.Values, kv ...string) url.Values {
		f := url.Values{}
		for k, v := range base {
			f[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	for _, tc := range []struct {
		form  url.Values
		input string
		want  map[string]string
	}{
		{with(plain, "ca_file", notPEM), "ca_file", map[string]string{"en": "holds no certificate", "ja": "証明書が入っていません"}},
		{with(plain, "use_client_cert", "on", "client_cert", notPEM, "client_key", notPEM), "client_cert", map[string]string{"en": "cannot be used together", "ja": "組み合わせて使えません"}},
		// Graph with a Google file: whose file it is, as with SMTP (it
		// used to get the way's "needs a credential file of the same
		// provider", which no longer comes first).
		{url.Values{"name": {"office"}, "from": {"news@example.jp"}, "auth_choice": {"microsoft"}, "credentials": {"google-file"}, "via": {"graph"}}, "",
			map[string]string{"en": "is for Google Workspace, not Microsoft 365", "ja": "は Google Workspace 用で、Microsoft 365 用ではありません"}},
	} {
		for lang, want := range tc.want {
			s := c.session()
			s.hc.Transport = langTransport{lang}
			code, page, _ := s.postForm("/accounts/new", tc.form)
			if code != http.StatusUnprocessableEntity || !strings.Contains(page, want) || (tc.input != "" && !invalidInput(page, tc.input)) {
				t.Errorf("%s (%s): %d, want 422 saying %q\n%s", tc.input, lang, code, want, page)
			}
		}
	}
}

// Choosing Microsoft 365 with a credential file made for Google is refused
// beside the file's input, in the page's language, naming what the file is
// for and what to do; nothing is saved (it used to be saved as a Google
// account). With or without the page's script filling the server in.
func TestAccountFormRefusesACredentialFileOfAnotherProvider(t *testing.T) {
	c := startConsole(t)
	d, _, err := c.svc.CreateCredentialFile(t.Context(), core.CreateInput{Provider: "google", ClientID: "app.apps.example", ClientSecret: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.ImportCredentialFile(t.Context(), core.ImportInput{Source: "g.bmcred", Name: "google-file", Data: d}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"en": "The credential file “google-file” is for Google Workspace, not Microsoft 365. Choose Google Workspace as the sign-in method, or import a credential file for Microsoft 365 in Advanced settings and choose it.",
		"ja": "資格情報ファイル「google-file」は Google Workspace 用で、Microsoft 365 用ではありません。認証方式で Google Workspace を選ぶか、詳細設定で Microsoft 365 用の資格情報ファイルをインポートして選んでください。",
	}
	for _, server := range []url.Values{
		{"smtp_host": {"smtp.office365.com"}, "smtp_port": {"587"}, "security": {"starttls"}}, // as the script fills it
		{}, // no script: the preset is the core's
	} {
		for lang, w := range want {
			s := c.session()
			s.hc.Transport = langTransport{lang}
			f := url.Values{"name": {"office"}, "from": {"info@contoso.example"}, "auth_choice": {"microsoft"}, "credentials": {"google-file"}, "via": {"smtp"}}
			for k, v := range server {
				f[k] = v
			}
			code, page, _ := s.postForm("/accounts/new", f)
			marked := regexp.MustCompile(`<select id="credentials"[^>]*aria-invalid="true"`).MatchString(page)
			if code != http.StatusUnprocessableEntity || strings.Count(page, template.HTMLEscapeString(w)) < 2 || !marked {
				t.Errorf("%s, server %v: %d; want 422 saying %q in the summary and beside the credential file\n%s", lang, server, code, w, page)
			}
		}
	}
	if a, err := c.svc.Account(t.Context(), "office"); err == nil {
		t.Errorf("a refused form saved the account (%s, %s)", a.Kind, a.SMTPAddr())
	}

	// A Microsoft 365 file with Google's server: said beside the server.
	md, _, err := c.svc.CreateCredentialFile(t.Context(), core.CreateInput{Provider: "microsoft", ClientID: "cid"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.svc.ImportCredentialFile(t.Context(), core.ImportInput{Source: "m.bmcred", Name: "ms-file", Data: md}); err != nil {
		t.Fatal(err)
	}
	for lang, w := range map[string]string{
		"en": "The SMTP server smtp.gmail.com is Google Workspace's, but the credential file “ms-file” is for Microsoft 365. Clear the SMTP server to use Microsoft 365's, or choose a credential file for Google Workspace.",
		"ja": "SMTP サーバー smtp.gmail.com は Google Workspace のサーバーですが、資格情報ファイル「ms-file」は Microsoft 365 用です。SMTP サーバーを空にして Microsoft 365 のサーバーを使うか、Google Workspace 用の資格情報ファイルを選んでください。",
	} {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		code, page, _ := s.postForm("/accounts/new", url.Values{"name": {"office"}, "from": {"info@contoso.example"}, "auth_choice": {"microsoft"},
			"credentials": {"ms-file"}, "via": {"smtp"}, "smtp_host": {"smtp.gmail.com"}, "smtp_port": {"465"}, "security": {"tls"}})
		if code != http.StatusUnprocessableEntity || strings.Count(page, template.HTMLEscapeString(w)) < 2 || !invalidInput(page, "smtp_host") {
			t.Errorf("%s, Google's server: %d; want 422 saying %q beside the server\n%s", lang, code, w, page)
		}
	}
	if _, err := c.svc.Account(t.Context(), "office"); err == nil {
		t.Error("a refused form saved the account")
	}
}

// "Schedule" (or "Save") pressed twice on the check step makes the one
// schedule and both answers say so: the second is not told the name is
// taken (a person would then pick another name, and the delivery would
// go out twice). A new save after the draft changed is refused as before.
func TestSchedulingADraftTwiceAtOnceMakesOneAndSaysSo(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	s := c.session()
	base := readyDraft(t, s, 2)
	for _, action := range []string{"schedule", "save"} {
		name := "twice-" + action
		var wg sync.WaitGroup
		pages := make([]string, 3)
		codes := make([]int, 3)
		for i := range pages {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], pages[i], _ = s.post(base+"/"+action, map[string]string{"name": name, "when": "repeat", "every": "daily", "time": "09:00"}, nil)
			}()
		}
		wg.Wait()
		for i := range pages {
			if codes[i] != http.StatusOK || !strings.Contains(pages[i], `id="saved-result"`) {
				t.Errorf("%s, press %d: %d, want the page saying it was done\n%s", action, i, codes[i], pages[i])
			}
		}
	}
	if list, _ := c.svc.Schedules(t.Context()); len(list) != 1 {
		t.Errorf("%d schedules, want 1", len(list))
	}
	// The message changed since: saving under the name again is refused.
	if code, page, _ := s.post(base+"/message", map[string]string{"account": "relay", "subject": "改訂版", "text": "本文\n", "charset": "utf-8", "action": "next"}, nil); code != http.StatusOK {
		t.Fatalf("message: %d\n%s", code, page)
	}
	if code, page, _ := s.post(base+"/save", map[string]string{"name": "twice-save"}, nil); code != http.StatusUnprocessableEntity || !strings.Contains(page, "That name is taken") && !strings.Contains(page, "taken") {
		t.Errorf("saving a changed draft under a taken name: %d\n%s", code, page)
	}
}

// "Create" pressed twice on the new schedule form makes one schedule and
// both answers show it made: the second is not told the name is taken.
func TestCreatingAScheduleTwiceAtOnceMakesOne(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	saveNews(t, c.svc, "news", "relay", 2)
	s := c.session()
	_, page := s.get("/schedules/new?run=news")
	m := onceRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the new schedule form carries no one-time key:\n%s", page)
	}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, page, at := s.postForm("/schedules/new", url.Values{"once": {m[1]}, "name": {"mornings"}, "run": {"news"}, "when": {"repeat"},
				"every": {"daily"}, "time": {"08:00"}, "tz": {"Local"}, "missed": {"skip"}, "preflight": {"24h"}})
			if code != http.StatusOK || at != "/schedules" {
				t.Errorf("press %d: %d at %s\n%s", i, code, at, page)
			}
		}()
	}
	wg.Wait()
	if list, _ := c.svc.Schedules(t.Context()); len(list) != 1 {
		t.Errorf("%d schedules, want 1", len(list))
	}
}

// A name for saving that Windows cannot take as a folder name ("12:00",
// "A/B" and the like: the saved delivery's files live in a folder of that
// name) is refused beside the name, in words, wherever the console runs.
func TestSavingUnderANameWindowsRefusesSaysSo(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	base := readyDraft(t, s, 2)
	for _, name := range []string{"news:12", "what?", "a*b", `say"hi"`, "<script>", "a|b", "tab\x01", "con"} {
		code, page, _ := s.post(base+"/save", map[string]string{"name": name}, nil)
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, "英数字・「-」・「_」を使ってください") || !invalidInput(page, "save-name") {
			t.Errorf("%q: %d, want 422 naming the name\n%s", name, code, page)
		}
	}
	if list, _ := c.svc.SavedDeliveries(t.Context()); len(list) != 0 {
		t.Errorf("%d saved deliveries, want none", len(list))
	}
	// Japanese is a name Windows takes.
	if code, page, _ := s.post(base+"/save", map[string]string{"name": "月例のお知らせ"}, nil); code != http.StatusOK || !strings.Contains(page, `id="saved-result"`) {
		t.Errorf("a Japanese name: %d\n%s", code, page)
	}
}

// The name the check step proposes for saving, made from the list's file
// name, is one it takes: "会員 2025.12.csv" does not come back refused.
func TestTheProposedSaveNameIsOneTheStepTakes(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	s := c.session()
	_, _, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"会員 2025.12:最新.csv": sjisList(t, 2, nil)}})
	m := draftPath.FindStringSubmatch(at)
	if m == nil {
		t.Fatalf("upload: at %s", at)
	}
	base := "/drafts/" + m[1]
	if code, page, _ := s.post(base+"/message", map[string]string{"account": "relay", "subject": "s", "text": "t\n", "charset": "utf-8", "action": "next"}, nil); code != http.StatusOK {
		t.Fatalf("message: %d\n%s", code, page)
	}
	_, page := s.get(base + "/check")
	v := regexp.MustCompile(`id="save-name" name="name" value="([^"]*)"`).FindStringSubmatch(page)
	if v == nil {
		t.Fatalf("no proposed name:\n%s", page)
	}
	if code, page, _ := s.post(base+"/save", map[string]string{"name": v[1]}, nil); code != http.StatusOK || !strings.Contains(page, `id="saved-result"`) {
		t.Errorf("saving under the proposed name %q: %d\n%s", v[1], code, page)
	}
}
