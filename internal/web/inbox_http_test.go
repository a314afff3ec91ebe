package web_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/mailbox"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/rehearsal"
	"github.com/bluemoon-mail/bluemoon/internal/web"
)

// startSandbox is `bluemoon sandbox` for a test: a sandbox home with its
// stand-ins and accounts, and a console in sandbox mode showing its inbox.
func startSandbox(t *testing.T) (*console, *rehearsal.Rehearsal) {
	t.Helper()
	home := filepath.Join(t.TempDir(), "sandbox")
	if err := rehearsal.Prepare(home); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := core.Open(ctx, core.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	r, err := rehearsal.Start(ctx, svc, 0)
	if err != nil {
		svc.Close()
		t.Fatal(err)
	}
	return serveConsole(t, ctx, cancel, svc, home, web.Options{Sandbox: true, Inbox: r.Inbox}, func() { r.Close() }), r
}

// sandboxSubject is a Japanese subject the sandbox's tests deliver.
const sandboxSubject = "{{.name}} 様：12月のご利用明細"

// deliverToSandbox sends n messages (ISO-2022-JP, a text and an HTML
// body, a Japanese-named attachment) through the sandbox's relay account.
func deliverToSandbox(t *testing.T, c *console, n int) int64 {
	t.Helper()
	att := filepath.Join(t.TempDir(), "ご案内.txt")
	if err := os.WriteFile(att, []byte("年末年始の営業日のご案内\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := c.svc.Send(t.Context(), core.SendInput{Account: rehearsal.RelayAccount, Name: "12月のご利用明細", List: core.ListInput{Path: writeList(t, n)},
		Message: core.MessageInput{Subject: sandboxSubject, Text: "{{.name}} 様\n\nいつもご利用いただきありがとうございます。\n",
			HTML: "<p>{{.name}} 様</p><script>parent.document.title='pwned'</script><p>HTML 本文です。</p>", Attach: []string{att}, Charset: "iso-2022-jp"}}, core.SendEvents{})
	if err != nil {
		t.Fatal(err)
	}
	return res.DeliveryID
}

// The Inbox is the sandbox's only: elsewhere its addresses are not found.
func TestInboxIsNotFoundOutsideTheSandbox(t *testing.T) {
	c := startConsole(t)
	s := c.session()
	for _, p := range []string{"/inbox", "/inbox/18ed15bb2a185000-e2560212", "/inbox/18ed15bb2a185000-e2560212/eml"} {
		if code, _ := s.get(p); code != http.StatusNotFound {
			t.Errorf("GET %s outside the sandbox: %d", p, code)
		}
	}
	if code, _, _ := s.post("/inbox/empty", nil, nil); code != http.StatusNotFound {
		t.Errorf("POST /inbox/empty outside the sandbox: %d", code)
	}
	if _, page := s.get("/accounts"); strings.Contains(page, `href="/inbox"`) || strings.Contains(page, "sandbox-banner") {
		t.Error("the normal console shows the inbox link or the sandbox banner")
	}
}

// A delivery to the relay stand-in lands in the Inbox, decoded; the
// message's markup is data on the page and runs nowhere; its files are
// downloads; emptying needs the form's token.
func TestInboxShowsDecodedMessagesSafely(t *testing.T) {
	c, r := startSandbox(t)
	deliverToSandbox(t, c, 3)
	s := c.session()
	code, page := s.get("/inbox")
	if code != 200 || !strings.Contains(page, "Name 3 様：12月のご利用明細") || !strings.Contains(page, "r1@example.com") || !strings.Contains(page, "sandbox-banner") {
		t.Fatalf("the inbox: %d\n%s", code, page)
	}
	list, total, _ := r.Inbox.List(0, 10)
	if total != 3 {
		t.Fatalf("the mailbox holds %d", total)
	}
	id := list[0].ID
	_, page = s.get("/inbox/" + id)
	for _, want := range []string{"いつもご利用いただきありがとうございます。", "ご案内.txt", `sandbox=""`, "&lt;script&gt;", "/inbox/" + id + "/attachments/1"} {
		if !strings.Contains(page, want) {
			t.Errorf("the message page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>parent") {
		t.Error("the message's script is live markup on the console's page")
	}
	resp, err := s.hc.Get(c.srv.BaseURL() + "/inbox/" + id + "/html")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "sandbox;") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("the HTML body is served with CSP %q", csp)
	}
	resp, err = s.hc.Get(c.srv.BaseURL() + "/inbox/" + id + "/attachments/1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "年末年始の営業日のご案内\r\n" || resp.Header.Get("Content-Type") != "application/octet-stream" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment; filename*=utf-8''%E3%81%94") {
		t.Errorf("the attachment: %q %v", body, resp.Header)
	}
	resp, err = s.hc.Get(c.srv.BaseURL() + "/inbox/" + id + "/eml")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), "Subject: =?ISO-2022-JP?") || !strings.Contains(resp.Header.Get("Content-Disposition"), ".eml") {
		t.Errorf("the raw download: %v\n%.300s", resp.Header, raw)
	}
	for _, p := range []string{"/inbox/../../etc/passwd", "/inbox/nothing", "/inbox/" + id + "/attachments/2"} {
		if code, _ := s.get(p); code != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	// Without the form's token nothing is emptied.
	resp, err = s.hc.PostForm(c.srv.BaseURL()+"/inbox/empty", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n, _ := r.Inbox.Count(); resp.StatusCode == http.StatusOK || n != 3 {
		t.Fatalf("an empty without the token: %d, %d left", resp.StatusCode, n)
	}
	if code, page, _ := s.post("/inbox/empty", nil, nil); code != 200 || !strings.Contains(page, "Removed 3 messages") {
		t.Fatalf("emptying: %d\n%s", code, page)
	}
	if n, _ := r.Inbox.Count(); n != 0 {
		t.Fatalf("%d left after emptying", n)
	}
}

// The Inbox pages by fifty, newest first, with links both ways.
func TestInboxPagesNewestFirst(t *testing.T) {
	c, r := startSandbox(t)
	base := time.Now()
	for i := range 51 {
		raw := fmt.Sprintf("From: a@example.jp\r\nTo: b@example.net\r\nSubject: =?UTF-8?B?%s?=\r\n\r\nbody\r\n", base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("お知らせ %02d", i))))
		if _, err := r.Inbox.Deliver(mailbox.Envelope{Server: "relay-smtp", To: []string{"b@example.net"}, At: base.Add(time.Duration(i) * time.Second)}, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	s := c.session()
	_, page := s.get("/inbox")
	if !strings.Contains(page, "お知らせ 50") || strings.Contains(page, "お知らせ 00") || !strings.Contains(page, `id="inbox-older"`) || strings.Contains(page, `id="inbox-newer"`) {
		t.Fatalf("the first page:\n%s", page)
	}
	_, page = s.get("/inbox?page=2")
	if !strings.Contains(page, "お知らせ 00") || strings.Contains(page, "お知らせ 01") || !strings.Contains(page, `id="inbox-newer"`) || !strings.Contains(page, "51 of 51") {
		t.Fatalf("the second page:\n%s", page)
	}
}

// One message's file damaged on disk — cut short, or overwritten — is that
// message's trouble alone: the list shows every other message and a line
// saying, in the page's language, which one could not be read; its page
// says so with the file and the cause instead of failing, and the log
// has the cause.
func TestInboxShowsADamagedFileAmongTheRest(t *testing.T) {
	c, r := startSandbox(t)
	deliverToSandbox(t, c, 4)
	list, _, err := r.Inbox.List(0, 10)
	if err != nil || len(list) != 4 {
		t.Fatalf("the inbox: %d, %v", len(list), err)
	}
	cut, over := list[1].ID, list[2].ID
	if err := os.Truncate(filepath.Join(r.Inbox.Dir(), cut+".msg"), 25); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(r.Inbox.Dir(), over+".msg"), []byte("\x00\x00\x00\x00 not an envelope\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c0 := range []struct{ lang, row, title, cause string }{
		{"en", "(could not be read: message %s)", "This message could not be read", "Cause"},
		{"ja", "（読み込めません：メッセージ %s）", "このメッセージを読み込めませんでした", "原因"},
	} {
		s := c.session()
		s.hc.Transport = langTransport{c0.lang}
		code, page := s.get("/inbox")
		if code != http.StatusOK {
			t.Fatalf("%s: the inbox with a damaged file: %d\n%s", c0.lang, code, page)
		}
		for _, want := range []string{list[0].Subject, list[3].Subject, fmt.Sprintf(c0.row, cut), fmt.Sprintf(c0.row, over), `href="/inbox/` + cut + `"`} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the list lacks %q", c0.lang, want)
			}
		}
		code, page = s.get("/inbox/" + cut)
		if code != http.StatusOK {
			t.Fatalf("%s: the damaged message's page: %d\n%s", c0.lang, code, page)
		}
		for _, want := range []string{c0.title, cut, filepath.Join(r.Inbox.Dir(), cut+".msg"), c0.cause, "ends inside its envelope line"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s: the damaged message's page lacks %q", c0.lang, want)
			}
		}
		if _, page = s.get("/inbox/" + over); !strings.Contains(page, "not the JSON") {
			t.Errorf("%s: the overwritten message's page lacks its cause", c0.lang)
		}
		if code, _ := s.get("/inbox/" + cut + "/eml"); code != http.StatusNotFound {
			t.Errorf("%s: the damaged message's .eml: %d", c0.lang, code)
		}
		if code, page := s.get("/inbox/" + list[0].ID); code != http.StatusOK || !strings.Contains(page, "いつもご利用いただきありがとうございます。") {
			t.Errorf("%s: a good message beside damaged ones: %d", c0.lang, code)
		}
	}
	if logs := c.logs.String(); !strings.Contains(logs, cut+".msg") || !strings.Contains(logs, "ends inside its envelope line") || !strings.Contains(logs, "not the JSON") {
		t.Errorf("the log does not say which file is damaged and why:\n%s", logs)
	}
}

// A message sent in ISO-2022-JP reaches the Inbox with its JIS escapes
// (ESC $ B … ESC ( B); the page's view of its source reads as Japanese,
// with no ESC byte and a note that the body was converted, while the
// .eml download is byte for byte what the stand-in received.
func TestInboxSourceOfAnISO2022JPMessageReadsAsJapanese(t *testing.T) {
	c, r := startSandbox(t)
	deliverToSandbox(t, c, 1)
	list, _, err := r.Inbox.List(0, 1)
	if err != nil || len(list) != 1 {
		t.Fatalf("the inbox: %v", err)
	}
	id := list[0].ID
	stored, err := os.ReadFile(filepath.Join(r.Inbox.Dir(), id+".msg"))
	if err != nil {
		t.Fatal(err)
	}
	_, received, _ := strings.Cut(string(stored), "\n") // after the envelope line
	if !strings.Contains(received, "\x1b$B") || !strings.Contains(received, "charset=ISO-2022-JP") {
		t.Fatalf("the stand-in did not receive ISO-2022-JP:\n%.600q", received)
	}
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	code, page := s.get("/inbox/" + id)
	if code != http.StatusOK {
		t.Fatalf("the message page: %d", code)
	}
	if strings.Contains(page, "\x1b") {
		t.Error("the message page carries ESC bytes")
	}
	_, src, _ := strings.Cut(page, `id="msg-source">`)
	src, _, _ = strings.Cut(src, "</pre>")
	for _, want := range []string{"Name 1 様\n\nいつもご利用いただきありがとうございます。", "HTML 本文です。", "Subject: =?ISO-2022-JP?B?", "Content-Transfer-Encoding: 7bit"} {
		if !strings.Contains(src, want) {
			t.Errorf("the source on the page lacks %q:\n%s", want, src)
		}
	}
	if strings.Contains(src, "$B") || strings.Contains(src, `class="esc"`) {
		t.Errorf("the source on the page shows JIS escapes:\n%s", src)
	}
	if !strings.Contains(page, "ISO-2022-JP で書かれた本文は、読めるように Unicode に変換して表示しています。") {
		t.Error("the page does not say the source's body was converted")
	}
	resp, err := s.hc.Get(c.srv.BaseURL() + "/inbox/" + id + "/eml")
	if err != nil {
		t.Fatal(err)
	}
	eml, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(eml) != received {
		t.Errorf("the .eml download (%d bytes) is not what was received (%d bytes)", len(eml), len(received))
	}
}

// The sandbox's own home is not the one `bluemoon console` opens: a page
// reached without a session there names the command that gives the
// sandbox's console a fresh address.
func TestSandboxWithoutTheTokenSaysToRunTheSandboxAgain(t *testing.T) {
	c, _ := startSandbox(t)
	resp, err := http.Get(c.srv.BaseURL() + "/deliveries")
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, resp)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(b, "<code>bluemoon sandbox</code>") || strings.Contains(b, "bluemoon console</code>") {
		t.Errorf("sandbox page without a session: %s, want 401 naming 'bluemoon sandbox' (not 'bluemoon console'); body:\n%s", resp.Status, b)
	}
}
