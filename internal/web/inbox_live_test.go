package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// inboxStatus is /inbox/status's answer.
type inboxStatus struct {
	New     int    `json:"new"`
	Newest  string `json:"newest"`
	Arrived string `json:"arrived"`
	Show    string `json:"show"`
}

// The status an open Inbox polls: how many arrived after the newest it
// shows, in the page's language.
func TestInboxStatusCountsArrivals(t *testing.T) {
	c, _ := startSandbox(t)
	s := c.session()
	get := func(path string) inboxStatus {
		t.Helper()
		code, js := s.get(path)
		var st inboxStatus
		if err := json.Unmarshal([]byte(js), &st); code != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %v\n%s", path, code, err, js)
		}
		return st
	}
	if st := get("/inbox/status"); st.New != 0 || st.Newest != "" || st.Arrived != "" {
		t.Fatalf("empty: %+v", st)
	}
	_, page := s.get("/inbox")
	if !strings.Contains(page, `data-newest=""`) || !strings.Contains(page, `src="/static/inbox.js" nonce=`) {
		t.Fatalf("the empty page has no poll:\n%s", page)
	}
	deliverToSandbox(t, c, 2)
	st := get("/inbox/status")
	if st.New != 2 || st.Newest == "" || st.Arrived != "2 new message(s) arrived: they are at the top of the list." {
		t.Fatalf("after 2: %+v", st)
	}
	_, page = s.get("/inbox")
	if !strings.Contains(page, `data-newest="`+st.Newest+`"`) {
		t.Fatalf("the page does not carry the newest id %s", st.Newest)
	}
	if st := get("/inbox/status?since=" + st.Newest); st.New != 0 {
		t.Fatalf("since the newest: %+v", st)
	}
	s.hc.Transport = langTransport{"ja"}
	deliverToSandbox(t, c, 1)
	if st := get("/inbox/status?since=" + st.Newest); st.New != 1 || st.Show != "新しいメッセージ 1 件 — 表示する" {
		t.Fatalf("in Japanese: %+v", st)
	}
}

// A delivery sent while the Inbox is open shows up in it without a
// reload; on an older page a link to them is offered instead.
func TestBrowserInboxShowsArrivalsWithoutReloadJapanese(t *testing.T) {
	c, _ := startSandbox(t)
	b := newBrowser(t, "ja")
	b.open(c)
	b.goTo(c, "/inbox")
	b.waitText("#inbox-none", "")
	b.do(chromedp.Evaluate[chromedp.Void](`window.__same = true`))

	deliverToSandbox(t, c, 3)
	b.waitText("#inbox", "12月のご利用明細")
	b.waitText("#inbox-live", "新しいメッセージが 3 件届きました")
	b.waitText("#inbox-count", "3 件")
	if !evalJS[bool](b, `window.__same === true`) {
		t.Fatal("the page was reloaded")
	}
	if n := evalJS[int](b, `document.querySelectorAll('#inbox tbody tr').length`); n != 3 {
		t.Fatalf("%d rows", n)
	}

	// Focus in the list: no redraw under the keyboard, a link instead.
	b.do(chromedp.Focus("#inbox tbody a"))
	deliverToSandbox(t, c, 1)
	b.waitText("#inbox-live", "新しいメッセージ 1 件 — 表示する")
	if n := evalJS[int](b, `document.querySelectorAll('#inbox tbody tr').length`); n != 3 {
		t.Fatalf("redrawn under the keyboard: %d rows", n)
	}
	b.submit("#inbox-show-new")
	if n := evalJS[int](b, `document.querySelectorAll('#inbox tbody tr').length`); n != 4 {
		t.Fatalf("after show: %d rows", n)
	}
}
