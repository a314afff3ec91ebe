package web_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
)

// addBulk adds an account sending, without limits, to a stand-in that
// keeps no message (a large delivery would otherwise sit in memory).
func addBulk(t testing.TB, c *console) *smtpsrv.Server {
	t.Helper()
	srv, err := smtpsrv.Start(smtpsrv.Options{Security: smtpsrv.NoTLS, AllowAnonymous: true, Discard: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	host, portText, _ := net.SplitHostPort(srv.Addr())
	port, _ := strconv.Atoi(portText)
	if _, err := c.svc.AddAccount(t.Context(), "bulk", core.AccountInput{From: core.Ptr("news@example.org"), SMTPHost: &host, SMTPPort: &port,
		Security: core.Ptr("none"), Auth: core.Ptr("none"), PerMinute: core.Ptr(0), PerDay: core.Ptr(0), Connections: core.Ptr(4)}); err != nil {
		t.Fatal(err)
	}
	return srv
}

// TestBrowserLargestList is the measurement of the largest list tried in
// the browser: BLUEMOON_BIG_LIST=100000 uploads a workbook of that many
// rows, previews its first and last rows, checks and sends it to a
// stand-in, and opens its report, logging how long each took. Wall time
// on a shared machine: figures, not assertions (scripts/bench style).
// Without the variable it walks the same path with 500 rows (five report
// pages), so the measurement's own steps are kept working by every run.
func TestBrowserLargestList(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BLUEMOON_BIG_LIST"))
	if n <= 0 {
		n = 500
	}
	c := startConsole(t)
	srv := addBulk(t, c)
	start := time.Now()
	xlsx := memberWorkbook(t, n)
	if os.Getenv("BLUEMOON_BIG_LIST_FORMAT") == "csv" {
		var sb strings.Builder
		sb.WriteString("氏名,メールアドレス,会員番号\n")
		for i := 2; i <= n+1; i++ {
			name := fmt.Sprintf("会員 %d 号", i)
			if i == 2 {
				name = "山田 花子"
			}
			fmt.Fprintf(&sb, "%s,member%04d@example.jp,%d\n", name, i, 5000+i)
		}
		xlsx = writeFileT(t, "会員名簿.csv", []byte(sb.String()))
	}
	fi, _ := os.Stat(xlsx)
	t.Logf("list of %d rows: %s, %d KB, written in %v", n, filepath.Base(xlsx), fi.Size()>>10, time.Since(start).Round(time.Millisecond))
	b := newBrowser(t, "ja")
	b.acceptDialogs()
	b.open(c)
	b.goTo(c, "/deliveries/new")
	b.do(chromedp.SetUploadFiles("#list", []string{xlsx}))
	lap := func(what string, fn func()) {
		t0 := time.Now()
		fn()
		t.Logf("%-44s %v", what, time.Since(t0).Round(time.Millisecond))
	}
	lap("upload and read the list (list step shown)", func() { b.submit("#list-upload") })
	if got := b.number("#count-valid"); got != n {
		t.Fatalf("%d valid rows, want %d", got, n)
	}
	t.Logf("  the list step says: %s", b.text("#list-rows"))
	b.submit("#to-message")
	b.do(chromedp.SetValue("#account", "bulk"))
	b.fill("#subject", "{{.氏名}} 様")
	b.fill("#text", "{{.氏名}} 様、会員番号 {{.会員番号}}")
	lap("template check and preview of row 2", func() { b.submit("#to-preview") })
	b.waitText("#preview-subject", "山田 花子 様")
	lap(fmt.Sprintf("preview of the last row (%d)", n+1), func() {
		page, _, _ := strings.Cut(get(b, chromedp.Location()), "?")
		b.do(chromedp.Navigate(fmt.Sprintf("%s?row=%d", page, n+1)), chromedp.WaitVisible("#preview-subject"))
	})
	lap("check step (every row read and rendered)", func() { b.submit("#to-check") })
	lap("send: preflight again, stored, started", func() { b.submit("#send-now") })
	t0 := time.Now()
	deadline := t0.Add(15 * time.Minute)
	for b.number("#p-sent") < n {
		if time.Now().After(deadline) {
			t.Fatalf("sent %d of %d in 15 minutes", b.number("#p-sent"), n)
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("%-44s %v (%d accepted by the stand-in)", "sending, watched in the page", time.Since(t0).Round(time.Millisecond), srv.Accepted())
	id := regexp.MustCompile(`/deliveries/(\d+)`).FindStringSubmatch(get(b, chromedp.Location()))[1]
	lap("progress poll (one /progress answer)", func() {
		b.do(chromedp.Evaluate[chromedp.Void](`(fetch(location.pathname + '/progress').then(r => r.json()).then(j => window.__p = j), true)`))
		b.waitJS(`!!(window.__p && window.__p.sent > 0)`)
	})
	lap("report: first page", func() { b.goTo(c, "/deliveries/"+id+"/recipients") })
	t.Logf("  %s", b.text("#report-range"))
	for i := 0; i < 3; i++ {
		lap("report: next page", func() { b.submit("#report-next") })
	}
	lap("report: search by address", func() { b.goTo(c, fmt.Sprintf("/deliveries/%s/recipients?q=member%04d", id, n)) })
	t.Logf("  %s", b.text("#report-range"))
	lap("report: filter failed (none)", func() { b.goTo(c, "/deliveries/"+id+"/recipients?state=failed") })
	lap("deliveries list", func() { b.goTo(c, "/deliveries") })
	downloads := t.TempDir()
	b.downloadsTo(downloads)
	lap("report CSV download", func() {
		b.goTo(c, "/deliveries/"+id)
		b.do(chromedp.Click("#report-csv"))
		p := waitFile(t, downloads, ".csv")
		rows := readReport(t, p)
		if len(rows) != n+1 {
			t.Errorf("the CSV has %d lines", len(rows))
		}
	})
}
