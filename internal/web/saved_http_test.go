package web_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// The saved deliveries page lists each with the schedules that run it;
// run now asks first with the recipient count, then runs in the
// background and opens the delivery's page; delete refuses while a
// schedule runs it, and works once the schedule is gone.
func TestSavedDeliveriesOverHTTP(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	s := c.session()

	code, page := s.get("/deliveries/saved")
	if code != http.StatusOK || !strings.Contains(page, `id="saved-empty"`) {
		t.Fatalf("empty: %d\n%s", code, page)
	}
	for _, p := range []string{"/deliveries", "/schedules"} {
		if _, page := s.get(p); !strings.Contains(page, `href="/deliveries/saved"`) {
			t.Errorf("%s does not link to the saved deliveries", p)
		}
	}
	saveNews(t, c.svc, "news", "relay", 4)
	saveNews(t, c.svc, "offers", "relay", 2)
	if _, err := c.svc.AddSchedule(t.Context(), core.ScheduleInput{Name: "monday-news", Kind: schedule.KindDelivery, Target: "news", Cron: "0 9 * * 1", Missed: schedule.MissedSkip}); err != nil {
		t.Fatal(err)
	}
	_, page = s.get("/deliveries/saved")
	for _, want := range []string{`id="saved-news"`, `id="saved-offers"`, "今月のお知らせ", "relay", `href="/schedules/monday-news/edit"`,
		`href="/deliveries/saved/news/run"`, `href="/schedules/new?run=news"`, `action="/deliveries/saved/offers/remove"`, "Delete the saved delivery offers?"} {
		if !strings.Contains(page, want) {
			t.Errorf("list lacks %q", want)
		}
	}

	// Schedule it: the form comes prefilled.
	if _, page := s.get("/schedules/new?run=news"); !strings.Contains(page, `value="news" selected`) {
		t.Errorf("the schedule form does not preselect news")
	}

	// Run now: the confirmation says how many, nothing is sent yet.
	code, page = s.get("/deliveries/saved/news/run")
	if code != http.StatusOK || !strings.Contains(page, "4 recipients") || !strings.Contains(page, `data-confirm="Send this message to 4 recipients`) || ms.smtp.Accepted() != 0 {
		t.Fatalf("confirm: %d, accepted %d\n%s", code, ms.smtp.Accepted(), page)
	}
	code, page, at := s.post("/deliveries/saved/news/run", nil, nil)
	var id int64
	if _, err := fmt.Sscanf(at, "/deliveries/%d", &id); err != nil || code != http.StatusOK {
		t.Fatalf("run: %d at %s\n%s", code, at, page)
	}
	if _, err := c.svc.WaitDelivery(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if d, err := c.svc.Delivery(t.Context(), id); err != nil || d.Name != "news" || ms.smtp.Accepted() != 4 {
		t.Fatalf("delivery %+v %v, accepted %d", d, err, ms.smtp.Accepted())
	}
	if code, _ := s.get("/deliveries/saved/nope/run"); code != http.StatusNotFound {
		t.Errorf("missing saved delivery: %d", code)
	}

	// Delete: refused while a schedule runs it, said in words.
	code, page, _ = s.post("/deliveries/saved/news/remove", nil, nil)
	if code != http.StatusConflict || !strings.Contains(page, "news was not deleted: the schedule monday-news runs it") {
		t.Fatalf("remove in use: %d\n%s", code, page)
	}
	if _, err := c.svc.SavedDelivery(t.Context(), "news"); err != nil {
		t.Fatal("deleted anyway")
	}
	code, page, at = s.post("/deliveries/saved/offers/remove", nil, nil)
	if code != http.StatusOK || at != "/deliveries/saved" || !strings.Contains(page, "Saved delivery offers deleted") || strings.Contains(page, `id="saved-offers"`) {
		t.Fatalf("remove: %d at %s\n%s", code, at, page)
	}
	if err := c.svc.RemoveSchedule(t.Context(), "monday-news"); err != nil {
		t.Fatal(err)
	}
	if code, _, _ = s.post("/deliveries/saved/news/remove", nil, nil); code != http.StatusOK {
		t.Fatalf("remove after the schedule went: %d", code)
	}
}

// Deleting a delivery saved from the console removes the copies of its
// files the console made; one saved from the command line keeps the
// user's own files.
func TestSavedDeliveryRemoveTakesTheConsolesFiles(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	dir := filepath.Join(c.home, "console", "saved", "from-console")
	for name, body := range map[string]string{"list/list.csv": "email,name\na@example.jp,A\n", "body.txt": "{{.name}} 様\n"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.svc.SaveDelivery(t.Context(), &saved.Delivery{Name: "from-console", Account: "relay", Recipients: filepath.Join(dir, "list", "list.csv"),
		Subject: "お知らせ", Text: filepath.Join(dir, "body.txt")}); err != nil {
		t.Fatal(err)
	}
	saveNews(t, c.svc, "from-cli", "relay", 1)
	cli, err := c.svc.SavedDelivery(t.Context(), "from-cli")
	if err != nil {
		t.Fatal(err)
	}
	s := c.session()
	for _, n := range []string{"from-console", "from-cli"} {
		if code, _, _ := s.post("/deliveries/saved/"+n+"/remove", nil, nil); code != http.StatusOK {
			t.Fatalf("remove %s: %d", n, code)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the console's copies outlived the saved delivery: %v", err)
	}
	if _, err := os.Stat(cli.Recipients); err != nil {
		t.Errorf("the user's own list went: %v", err)
	}
}

// The wizard's check step and a saved delivery's run page show a
// delivery's check with the same rows, drawn by one template: for the same
// list, message and account they are the same markup, word for word, with
// the rows left out listed alike, and the messages that go as UTF-8
// instead of ISO-2022-JP named alike.
func TestCheckRowsAreTheSameOnTheWizardAndTheSavedRunPage(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	if _, err := c.svc.Suppress(t.Context(), "member003@example.jp", "test"); err != nil {
		t.Fatal(err)
	}
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	// Row 5's name has 髙, which ISO-2022-JP lacks; row 7 repeats row 2's
	// address.
	list := "氏名,email,会員番号\r\n" +
		"会員 2 号,member002@example.jp,1002\r\n" +
		"会員 3 号,member003@example.jp,1003\r\n" +
		"会員 4 号,not-an-address,1004\r\n" +
		"髙橋 5 号,member005@example.jp,1005\r\n" +
		"会員 6 号,member006@example.jp,1006\r\n" +
		"会員 7 号,member002@example.jp,1007\r\n"
	_, _, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"名簿.csv": []byte(list)}})
	base := strings.TrimSuffix(at, "/list")
	s.post(base+"/message", map[string]string{"account": "relay", "subject": "{{.氏名}} 様", "text": "本文です。", "charset": "iso-2022-jp", "action": "next"}, nil)
	code, wizard := s.get(base + "/check")
	if code != http.StatusOK {
		t.Fatalf("the check step: %d\n%s", code, wizard)
	}
	if code, page, _ := s.post(base+"/save", map[string]string{"name": "rows"}, nil); code != http.StatusOK {
		t.Fatalf("save: %d\n%s", code, page)
	}
	code, run := s.get("/deliveries/saved/rows/run")
	if code != http.StatusOK {
		t.Fatalf("the run page: %d\n%s", code, run)
	}
	// row is the <tr> whose header is label; problems the list of rows
	// left out.
	row := func(page, label string) string {
		i := strings.Index(page, `<th scope="row">`+label+`</th>`)
		if i < 0 {
			return ""
		}
		i = strings.LastIndex(page[:i], "<tr>")
		j := strings.Index(page[i:], "</tr>")
		return page[i : i+j+len("</tr>")]
	}
	problems := func(page string) string {
		i := strings.Index(page, "<details><summary>問題のある行")
		if i < 0 {
			return ""
		}
		j := strings.Index(page[i:], "</details>")
		return page[i : i+j]
	}
	// fallbacks is the note on the messages that go as UTF-8, with their
	// rows.
	fallbacks := func(page string) string {
		i := strings.Index(page, `id="check-fallbacks"`)
		if i < 0 {
			return ""
		}
		j := strings.Index(page[i:], "</details>")
		if j < 0 {
			return ""
		}
		return page[i : i+j]
	}
	for _, label := range []string{"宛先", "完了の見込み", "問題のある行", "配信停止リスト（送信しない）", "重複（1 通だけ送信）", "最大のメッセージ"} {
		w, r := row(wizard, label), row(run, label)
		if w == "" || w != r {
			t.Errorf("the row %s differs:\nwizard:   %s\nsaved run: %s", label, w, r)
		}
	}
	if w, r := problems(wizard), problems(run); !strings.Contains(w, "not-an-address") || w != r {
		t.Errorf("the rows left out differ:\nwizard:   %s\nsaved run: %s", w, r)
	}
	if w, r := fallbacks(wizard), fallbacks(run); w == "" || w != r {
		t.Errorf("the note on the messages sent as UTF-8 differs:\nwizard:   %s\nsaved run: %s", w, r)
	}
	for _, want := range []string{"3 件に送信", "1 行を除外"} {
		if !strings.Contains(row(run, "宛先")+row(run, "問題のある行"), want) {
			t.Errorf("the run page's rows lack %q", want)
		}
	}
	if r := row(run, "重複（1 通だけ送信）"); !strings.Contains(r, "<td>1</td>") {
		t.Errorf("the run page's duplicates row does not say 1: %s", r)
	}
	if r := row(run, "最大のメッセージ"); !largestSize.MatchString(r) {
		t.Errorf("the run page's largest message row has no size: %s", r)
	}
	for _, want := range []string{"1 通は ISO-2022-JP ではなく UTF-8 で送ります", "5 行目:", "件名に ISO-2022-JP にない文字「髙」がある"} {
		if !strings.Contains(fallbacks(run), want) {
			t.Errorf("the run page's note on the messages sent as UTF-8 lacks %q:\n%s", want, fallbacks(run))
		}
	}
}

// largestSize is a message's size as the check's row says it, in Japanese.
var largestSize = regexp.MustCompile(`<td>[0-9][0-9.,]* (バイト|KB|MB)</td>`)
