package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// session is a logged-in HTTP client of a console, for the checks that
// need no browser.
type session struct {
	t    *testing.T
	c    *console
	hc   *http.Client
	csrf string
}

func (c *console) session() *session {
	c.t.Helper()
	s := &session{t: c.t, c: c, hc: c.client()}
	_, page := s.get("/accounts")
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		m = regexp.MustCompile(`data-csrf="([^"]+)"`).FindStringSubmatch(page)
	}
	if m == nil {
		c.t.Fatal("no CSRF token on the page")
	}
	s.csrf = m[1]
	return s
}

func (s *session) get(path string) (int, string) {
	s.t.Helper()
	resp, err := s.hc.Get(s.c.srv.BaseURL() + path)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, body(s.t, resp)
}

// post sends a multipart form (fields, and files by field: name → content)
// as the console's own page would, and follows the redirect.
func (s *session) post(path string, fields map[string]string, files map[string]map[string][]byte) (int, string, string) {
	s.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", s.csrf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for field, fs := range files {
		for name, data := range fs {
			w, _ := mw.CreateFormFile(field, name)
			w.Write(data)
		}
	}
	mw.Close()
	req, _ := http.NewRequest("POST", s.c.srv.BaseURL()+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", s.c.srv.BaseURL())
	resp, err := s.hc.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp.StatusCode, body(s.t, resp), resp.Request.URL.Path
}

// addRelay gives the console an account sending through the stand-in with
// a password, at perMinute.
func addRelay(t *testing.T, c *console, ms *standIn, name string, perMinute int) {
	t.Helper()
	host, port := splitAddr(t, ms.smtp.Addr())
	var p int
	fmt.Sscan(port, &p)
	if _, err := c.svc.AddAccount(t.Context(), name, core.AccountInput{From: core.Ptr("relay@example.org"), FromName: core.Ptr("配信テスト"),
		Auth: core.Ptr("plain"), Password: core.Ptr("relay-password"), SMTPHost: &host, SMTPPort: &p, Security: core.Ptr("starttls"),
		CAFile: &ms.ca, PerMinute: &perMinute, PerDay: core.Ptr(0), Connections: core.Ptr(2)}); err != nil {
		t.Fatal(err)
	}
}

func sjisList(t *testing.T, rows int, bad map[int]string) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString("氏名,email,会員番号\r\n")
	for i := 2; i <= rows+1; i++ {
		addr := fmt.Sprintf("member%03d@example.jp", i)
		if a, ok := bad[i]; ok {
			addr = a
		}
		fmt.Fprintf(&b, "会員 %d 号,%s,%d\r\n", i, addr, 1000+i)
	}
	out, err := japanese.ShiftJIS.NewEncoder().String(b.String())
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

var draftPath = regexp.MustCompile(`^/drafts/([A-Za-z0-9_-]+)/list$`)

// The whole path without a browser: list, message, preview, check, send;
// the delivery's page and progress; the report.
func TestDeliveryStepsOverHTTP(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	s := c.session()

	code, page, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"会員名簿.csv": sjisList(t, 20, map[int]string{7: "not-an-address"})}})
	m := draftPath.FindStringSubmatch(at)
	if code != http.StatusOK || m == nil {
		t.Fatalf("upload: %d at %s\n%s", code, at, page)
	}
	draft := m[1]
	for _, want := range []string{"Shift_JIS", "email", "会員番号", "会員 2 号", "“not-an-address” is not an e-mail address", ">7<"} {
		if !strings.Contains(page, want) {
			t.Errorf("the list step lacks %q", want)
		}
	}
	// Uploads live in the home's console folder, the owner's alone.
	fi, err := os.Stat(filepath.Join(c.home, "console", "drafts", draft, "list", "会員名簿.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if dir, _ := os.Stat(filepath.Join(c.home, "console")); dir.Mode().Perm() != 0o700 || fi.Mode().Perm() != 0o600 {
		t.Errorf("console folder %v, list %v; want 0700 and 0600", dir.Mode().Perm(), fi.Mode().Perm())
	}

	base := "/drafts/" + draft
	code, page, _ = s.post(base+"/message", map[string]string{"account": "relay", "subject": "{{.氏名}} 様へ", "text": "{{.氏名}} 様\n{{.nope}}\n",
		"charset": "iso-2022-jp", "action": "next"}, map[string]map[string][]byte{"attach": {"ご案内.pdf": []byte("%PDF-1.4 test")}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "The text body, line 2: {{.nope}} is not a column of the list") || !strings.Contains(page, "ご案内.pdf") {
		t.Fatalf("a template naming no column: %d\n%s", code, page)
	}
	code, page, at = s.post(base+"/message", map[string]string{"account": "relay", "subject": "{{.氏名}} 様へ", "text": "{{.氏名}} 様\nお知らせです。\n",
		"charset": "iso-2022-jp", "action": "next"}, nil)
	if code != http.StatusOK || at != base+"/preview" {
		t.Fatalf("message: %d at %s\n%s", code, at, page)
	}
	for _, want := range []string{"会員 2 号 様へ", "member002@example.jp", "ご案内.pdf", "iso-2022-jp"} {
		if !strings.Contains(page, want) {
			t.Errorf("the preview of row 2 lacks %q", want)
		}
	}
	if _, eml := s.get(base + "/preview/eml?row=3"); !strings.Contains(eml, "To: member003@example.jp") || !strings.Contains(eml, "ISO-2022-JP") {
		t.Errorf("the .eml of row 3:\n%s", eml)
	}
	code, page = s.get(base + "/check")
	if code != http.StatusOK || !strings.Contains(page, "19 to send to") || !strings.Contains(page, "1 left out") {
		t.Fatalf("check: %d\n%s", code, page)
	}
	code, page, at = s.post(base+"/send", map[string]string{"name": "autumn"}, nil)
	if code != http.StatusOK || !strings.HasPrefix(at, "/deliveries/") {
		t.Fatalf("send: %d at %s\n%s", code, at, page)
	}
	if _, err := os.Stat(filepath.Join(c.home, "console", "drafts", draft)); !os.IsNotExist(err) {
		t.Errorf("the draft's files outlived the send: %v", err)
	}
	id := strings.TrimPrefix(at, "/deliveries/")
	var id64 int64
	fmt.Sscan(id, &id64)
	if _, err := c.svc.WaitDelivery(t.Context(), id64); err != nil {
		t.Fatal(err)
	}
	_, js := s.get("/deliveries/" + id + "/progress")
	var p struct {
		Status string `json:"status"`
		Sent   int    `json:"sent"`
		Final  bool   `json:"final"`
	}
	if err := json.Unmarshal([]byte(js), &p); err != nil || p.Status != "done" || p.Sent != 19 || !p.Final {
		t.Fatalf("progress: %s (%v)", js, err)
	}
	if n := ms.smtp.Accepted(); n != 19 {
		t.Fatalf("the stand-in got %d messages", n)
	}
	_, csv := s.get("/deliveries/" + id + "/report.csv")
	if !strings.HasPrefix(csv, "\ufeffrow,email,state") || !strings.Contains(csv, "7,not-an-address,skipped") || strings.Count(csv, ",sent,") != 19 {
		t.Fatalf("report CSV:\n%s", csv)
	}
	_, page = s.get("/deliveries/" + id + "/recipients?state=skipped")
	if !strings.Contains(page, "not-an-address") || strings.Contains(page, "member002@example.jp") {
		t.Fatalf("filtered report:\n%s", page)
	}
	_, page = s.get("/deliveries")
	if !strings.Contains(page, "autumn") {
		t.Fatalf("the list of deliveries lacks the delivery:\n%s", page)
	}
}

// A delivery paused because the account must sign in again says so, and
// offers the sign-in (詳細設定) as the next step.
func TestPausedForSignInSaysWhatToDo(t *testing.T) {
	c := startConsole(t)
	// What the engine stores when a token is refused mid-delivery.
	id := pausedDelivery(t, c, `status = 'paused', reason = 'sign-in needed: the refresh token was refused (AADSTS700082)'`)
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	_, page := s.get(fmt.Sprintf("/deliveries/%d", id))
	for _, want := range []string{"再サインインが必要です", "詳細設定でもう一度サインイン", `href="/accounts/relay/oauth"`, "AADSTS700082"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

// pausedDelivery sends 3 messages through a new relay account, then sets
// the delivery's row (set: an SQL SET list) as a run that paused leaves it.
func pausedDelivery(t *testing.T, c *console, set string) int64 {
	t.Helper()
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	res, err := c.svc.Send(t.Context(), core.SendInput{Account: "relay", List: core.ListInput{Path: writeList(t, 3)},
		Message: core.MessageInput{Subject: "s", Text: "t"}}, core.SendEvents{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), c.home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE deliveries SET `+set+` WHERE id = ?`, res.DeliveryID); err != nil {
		t.Fatal(err)
	}
	return res.DeliveryID
}

type langTransport struct{ lang string }

func (l langTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r.Header.Set("Accept-Language", l.lang)
	return http.DefaultTransport.RoundTrip(r)
}

func writeList(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "r%d@example.com,Name %d\n", i, i)
	}
	p := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// An upload past the bound is refused before it is read whole.
func TestOversizedUploadIsRefused(t *testing.T) {
	c := startConsole(t)
	s := c.session()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		// The server may refuse (and the client close the pipe) before a
		// byte is written: every write can fail.
		mw.WriteField("csrf", s.csrf)
		w, err := mw.CreateFormFile("list", "huge.csv")
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		chunk := bytes.Repeat([]byte("a@example.com,x\n"), 1<<16)
		for sent := 0; sent < 600<<20; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		mw.Close()
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", c.srv.BaseURL()+"/deliveries/new", pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", c.srv.BaseURL())
	// As a browser says it: the size comes first, and is refused unread.
	req.ContentLength = 600 << 20
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(b, "512 MB") {
		t.Fatalf("%s\n%s", resp.Status, b)
	}
}

// A draft saved under a name runs later exactly as `bluemoon run NAME`
// would, from files of its own; scheduling it gives its next run.
func TestSaveAndScheduleFromTheCheckStep(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	if _, err := c.svc.EditAccount(t.Context(), "relay", core.AccountInput{Signature: core.Ptr("広報部 山田")}); err != nil {
		t.Fatal(err)
	}
	s := c.session()
	_, _, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"名簿.csv": sjisList(t, 3, nil)}})
	base := strings.TrimSuffix(at, "/list")
	s.post(base+"/message", map[string]string{"account": "relay", "subject": "{{.氏名}} 様", "text": "本文です。", "html": "<p>{{.氏名}} 様</p>",
		"charset": "utf-8", "use_signature": "on", "action": "next"}, map[string]map[string][]byte{"attach": {"案内.txt": []byte("案内")}})

	code, page, _ := s.post(base+"/save", map[string]string{"name": "bad name"}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "no spaces") {
		t.Fatalf("a name with a space: %d", code)
	}
	code, page, _ = s.post(base+"/save", map[string]string{"name": "monthly-news"}, nil)
	if code != http.StatusOK || !strings.Contains(page, "bluemoon run monthly-news") {
		t.Fatalf("save: %d\n%s", code, page)
	}
	d, err := c.svc.SavedDelivery(t.Context(), "monthly-news")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.Recipients, filepath.Join(c.home, "console", "saved", "monthly-news")) || len(d.Attach) != 1 {
		t.Fatalf("saved delivery: %+v", d)
	}
	// The draft may go: the saved delivery has its own copies.
	s.post(base+"/discard", nil, nil)
	if err := c.svc.RunSaved(t.Context(), "monthly-news", false, alertNone, core.SendEvents{}); err != nil {
		t.Fatal(err)
	}
	msgs := ms.smtp.Messages()
	if len(msgs) != 3 || !strings.Contains(decoded(t, msgs[0].Data).Text, "本文です。\n\n広報部 山田") {
		t.Fatalf("the saved delivery sent %d messages; first:\n%s", len(msgs), msgs[0].Data)
	}

	// A new draft, scheduled daily at 07:30.
	_, _, at = s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"名簿.csv": sjisList(t, 3, nil)}})
	base = strings.TrimSuffix(at, "/list")
	s.post(base+"/message", map[string]string{"account": "relay", "subject": "s", "text": "t", "charset": "utf-8", "action": "next"}, nil)
	code, page, _ = s.post(base+"/schedule", map[string]string{"name": "monthly-news", "when": "repeat", "every": "daily", "time": "07:30"}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "That name is taken") {
		t.Fatalf("scheduling over a saved delivery without Replace: %d", code)
	}
	code, page, _ = s.post(base+"/schedule", map[string]string{"name": "daily-news", "when": "repeat", "every": "daily", "time": "07:30"}, nil)
	if code != http.StatusOK || !strings.Contains(page, "Scheduled daily-news") {
		t.Fatalf("schedule: %d\n%s", code, page)
	}
	sc, err := c.svc.Schedule(t.Context(), "daily-news")
	if err != nil || sc.Cron != "30 7 * * *" || sc.Target != "daily-news" || sc.Next.IsZero() || sc.Next.Hour() != 7 || sc.Next.Minute() != 30 {
		t.Fatalf("schedule %+v (%v)", sc, err)
	}
}

// A file per recipient: the column names it, the console keeps the files
// beside the list, each message carries its own, and the files stay until
// the delivery is over.
func TestPerRecipientAttachments(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	s := c.session()
	list := "email,name,file\na@example.com,A,a.pdf\nb@example.com,B,b.pdf\n"
	_, _, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"l.csv": []byte(list)}})
	base := strings.TrimSuffix(at, "/list")
	draft := strings.TrimPrefix(base, "/drafts/")
	fields := map[string]string{"account": "relay", "subject": "s", "text": "t", "charset": "utf-8", "attach_column": "file", "action": "next"}
	code, page, _ := s.post(base+"/message", fields, map[string]map[string][]byte{"rowfiles": {"a.pdf": []byte("%PDF a"), "../../b.pdf": []byte("%PDF bb")}})
	if code != http.StatusOK {
		t.Fatalf("message: %d\n%s", code, page)
	}
	if _, eml := s.get(base + "/preview/eml?row=3"); !strings.Contains(eml, `filename="b.pdf"`) {
		t.Fatalf("row 3's message lacks b.pdf:\n%s", eml)
	}
	_, _, at = s.post(base+"/send", nil, nil)
	var id int64
	fmt.Sscanf(at, "/deliveries/%d", &id)
	if _, err := c.svc.WaitDelivery(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms.smtp.Messages() {
		want := map[string]string{"a@example.com": "a.pdf", "b@example.com": "b.pdf"}[m.To[0]]
		if atts := decoded(t, m.Data).Attachments; len(atts) != 1 || atts[0].Filename != want {
			t.Errorf("%s got %v", m.To[0], atts)
		}
	}
	if _, err := os.Stat(filepath.Join(c.home, "console", "drafts", draft, "list", "b.pdf")); err != nil {
		t.Fatalf("the files went before the delivery was over: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.home, "console", "b.pdf")); err == nil {
		t.Fatal("an uploaded name climbed out of the draft")
	}
}

var alertNone alert.Config

func decoded(t *testing.T, raw []byte) *message.Decoded {
	t.Helper()
	d, err := message.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
