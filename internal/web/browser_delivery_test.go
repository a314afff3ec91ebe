package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// writeFileT writes data to a new file named name and returns its path.
func writeFileT(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// memberWorkbook is an .xlsx list of n members with Japanese names; row 2
// is 山田 花子.
func memberWorkbook(t *testing.T, n int) string {
	t.Helper()
	wb := excelize.NewFile()
	defer wb.Close()
	wb.SetSheetName("Sheet1", "会員")
	sw, err := wb.NewStreamWriter("会員")
	if err != nil {
		t.Fatal(err)
	}
	sw.SetRow("A1", []any{"氏名", "メールアドレス", "会員番号"})
	for i := 2; i <= n+1; i++ {
		name := fmt.Sprintf("会員 %d 号", i)
		if i == 2 {
			name = "山田 花子"
		}
		cell, _ := excelize.CoordinatesToCellName(1, i)
		if err := sw.SetRow(cell, []any{name, fmt.Sprintf("member%04d@example.jp", i), 5000 + i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "会員名簿.xlsx")
	if err := wb.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// number is the count an element shows ("1,234" → 1234).
func (b *browser) number(sel string) int {
	b.t.Helper()
	n, _ := strconv.Atoi(strings.ReplaceAll(evalJS[string](b, fmt.Sprintf(`document.querySelector(%q).textContent`, sel)), ",", ""))
	return n
}

// newTab opens a second tab of the same browser (same cookies).
func (b *browser) newTab() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	tab := &browser{t: b.t, ctx: ctx}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		b.t.Fatal(err)
	}
	return tab
}

// The main job in Japanese, in a real browser: a Shift_JIS list with a
// bad row, then an Excel list of 300 Japanese names; a merge field
// inserted by clicking the column; row 2 previewed with its name; 300
// messages sent to the stand-in, paused and resumed from the page and
// watched to the end in two tabs; the report downloaded.
func TestBrowserDeliveryFromListToReportJapanese(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	// 1,200 a minute: 300 messages take about 15 seconds, time to pause.
	addRelay(t, c, ms, "relay", 1200)
	b := newBrowser(t, "ja")
	b.acceptDialogs()
	downloads := t.TempDir()
	b.downloadsTo(downloads)
	b.open(c)

	b.do(chromedp.Click("header nav a[href='/deliveries']"), chromedp.WaitVisible("#new-delivery"))
	b.submitNav("#new-delivery")
	sjis := writeFileT(t, "会員名簿.csv", sjisList(t, 10, map[int]string{4: "yamada@@example.jp"}))
	b.do(chromedp.SetUploadFiles("#list", []string{sjis}))
	b.submit("#list-upload")
	b.waitText("#list-format", "Shift_JIS")
	if got := b.text("#list-problems tbody tr td"); got != "4" {
		t.Fatalf("the bad row is shown as row %q, want 4", got)
	}
	b.waitText("#list-problems", "yamada@@example.jp")
	if b.number("#count-valid") != 9 || b.number("#count-problems") != 1 {
		t.Fatalf("counts: %d valid, %d with problems", b.number("#count-valid"), b.number("#count-problems"))
	}

	// The Excel list instead.
	b.do(chromedp.SetUploadFiles("#list", []string{memberWorkbook(t, 300)}))
	b.submit("#list-upload")
	b.waitText("#list-format", "Excel")
	b.waitText("#list-sample", "山田 花子")
	if b.number("#count-valid") != 300 || b.value("#email_column") != "メールアドレス" {
		t.Fatalf("the workbook: %d valid, address column %q", b.number("#count-valid"), b.value("#email_column"))
	}

	b.submitNav("#to-message")
	b.do(chromedp.SetValue("#account", "relay"))
	// A mistyped column is named where it is, in Japanese.
	b.fill("#subject", "{{.指名}} 様")
	b.fill("#text", "本文")
	b.submit("#to-preview")
	b.waitText("#err-subject", "件名の 1 行目: {{.指名}} はリストにない列名です")
	b.do(chromedp.SetValue("#account", "relay"))
	b.fill("#subject", "")
	// Clicking a column inserts its merge field where the cursor is.
	b.do(chromedp.Click("#subject"), chromedp.Click(`button.chip[data-insert="{{.氏名}}"]`))
	b.do(chromedp.SendKeys("#subject", " 様 12月のお知らせ"))
	if got := b.value("#subject"); got != "{{.氏名}} 様 12月のお知らせ" {
		t.Fatalf("the subject after clicking 氏名: %q", got)
	}
	b.fill("#text", "様\nいつもありがとうございます。")
	b.do(chromedp.Evaluate[chromedp.Void](`(function(t){t.focus();t.selectionStart=t.selectionEnd=0})(document.querySelector('#text'))`),
		chromedp.Click(`button.chip[data-insert="{{.氏名}}"]`))
	b.submit("#to-preview")
	b.waitText("#preview-subject", "山田 花子 様 12月のお知らせ")
	b.waitText("#preview-text", "山田 花子様")
	if got := b.text("#preview-to"); got != "member0002@example.jp" {
		t.Fatalf("row 2 goes to %q", got)
	}
	b.submitNav("#preview-next")
	b.waitText("#preview-subject", "会員 3 号 様")

	b.submitNav("#to-check")
	b.waitText("#check-ready", "300")
	b.submit("#send-now") // the confirmation is accepted
	b.waitText("#p-status", "送信中")

	// Pause from the page once some have gone.
	b.waitJS(`parseInt(document.querySelector('#p-sent').textContent.replace(/,/g,'')) >= 40`)
	b.submit("#pause")
	b.waitText("#p-status", "一時停止中")
	b.waitText("#p-why-text", "手動で一時停止")
	paused := b.number("#p-sent")
	if paused >= 300 || ms.smtp.Accepted() != paused {
		t.Fatalf("paused at %d sent, the stand-in has %d", paused, ms.smtp.Accepted())
	}
	time.Sleep(2 * time.Second)
	if n := ms.smtp.Accepted(); n != paused {
		t.Fatalf("%d messages arrived while paused", n-paused)
	}
	if !b.visible("#resume") || b.visible("#pause") {
		t.Fatal("a paused delivery offers pause, not resume")
	}
	b.submit("#resume")
	// A second tab follows the same delivery.
	tab := b.newTab()
	loc := get(b, chromedp.Location())
	tab.do(chromedp.Navigate(loc), chromedp.WaitVisible("#p-sent"))
	for _, br := range []*browser{b, tab} {
		br.waitJS(`document.querySelector('#p-sent').textContent === '300'`)
		br.waitText("#p-status", "完了")
	}
	if n := ms.smtp.Accepted(); n != 300 {
		t.Fatalf("the stand-in got %d messages, want 300", n)
	}

	b.do(chromedp.Click("#report-csv"))
	rows := readReport(t, waitFile(t, downloads, ".csv"))
	if len(rows) != 301 || strings.Join(rows[0], ",") != "row,email,state,attempts,reply,time,next_try,via" {
		t.Fatalf("the report has %d lines; header %q", len(rows), rows[0])
	}
	sent := 0
	for _, r := range rows[1:] {
		if r[2] == "sent" {
			sent++
		}
	}
	if rows[1][0] != "2" || rows[1][1] != "member0002@example.jp" || rows[1][2] != "sent" || !strings.HasPrefix(rows[1][4], "250") || sent != 300 {
		t.Fatalf("report: first row %q, %d sent", rows[1], sent)
	}
}

func readReport(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// submitNav follows a link or presses a button and waits for the page it leads to.
func (b *browser) submitNav(sel string) { b.submit(sel) }

// Failures the stand-in refused are resent from the page, after a
// confirmation, once the cause is gone.
func TestBrowserResendFailuresEnglish(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	ms.smtp.SetUnknownRecipients([]string{"r2@example.com", "r5@example.com", "r9@example.com"})
	res, err := c.svc.Send(t.Context(), core.SendInput{Account: "relay", Name: "November", List: core.ListInput{Path: writeList(t, 12)},
		Message: core.MessageInput{Subject: "News", Text: "Hello {{.name}}"}}, core.SendEvents{})
	if res == nil {
		t.Fatal(err)
	}
	b := newBrowser(t, "en")
	b.acceptDialogs()
	b.open(c)
	b.goTo(c, fmt.Sprintf("/deliveries/%d", res.DeliveryID))
	if b.number("#p-failed") != 3 || b.number("#p-sent") != 9 {
		t.Fatalf("before: %d failed, %d sent", b.number("#p-failed"), b.number("#p-sent"))
	}
	b.submit("#to-report")
	b.submit(`#report-filter a[data-state="failed"]`)
	b.waitText("#report", "550 5.1.1")
	if n := evalJS[int](b, `document.querySelectorAll('#report tbody tr').length`); n != 3 {
		t.Fatalf("the failed filter shows %d rows", n)
	}

	ms.smtp.SetUnknownRecipients(nil) // the mailboxes exist now
	b.goTo(c, fmt.Sprintf("/deliveries/%d", res.DeliveryID))
	b.waitText("#resend-failed", "Resend to the 3 failed")
	b.submit("#resend-failed")
	b.waitJS(`document.querySelector('#p-sent').textContent === '12'`)
	b.waitText("#p-status", "Finished")
	if b.number("#p-failed") != 0 || ms.smtp.Accepted() != 12 || b.visible("#resend") {
		t.Fatalf("after: %d failed, the stand-in has %d, resend shown %v", b.number("#p-failed"), ms.smtp.Accepted(), b.visible("#resend"))
	}
	b.goTo(c, fmt.Sprintf("/deliveries/%d/recipients?q=r5@", res.DeliveryID))
	if got := b.text("#report tbody tr"); !strings.Contains(got, "r5@example.com") || !strings.Contains(got, "Sent") || !strings.Contains(got, "\t2\t") {
		t.Fatalf("r5 after the resend: %q", got)
	}
}

// A delivery another bluemoon process sends (the CLI, a schedule) shows
// live: the page's counter moves while it runs.
func TestBrowserShowsADeliveryOfAnotherProcessLive(t *testing.T) {
	const rows = 100
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	// 5 a second, 100 messages: ~20 s to watch, so that a browser slow to
	// start on a busy machine still sees the count move (with 40 it once
	// opened the page at 28 and saw only 40 after).
	addRelay(t, c, ms, "relay", 300)
	other, err := core.Open(context.Background(), core.Options{Home: c.home})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	started := make(chan int64, 1)
	done := make(chan error, 1)
	go func() {
		_, err := other.Send(context.Background(), core.SendInput{Account: "relay", List: core.ListInput{Path: writeList(t, rows)},
			Message: core.MessageInput{Subject: "s", Text: "t"}}, core.SendEvents{Started: func(id int64, _ int) { started <- id }})
		done <- err
	}()
	var id int64
	select {
	case id = <-started:
	case err := <-done:
		t.Fatalf("the other process's delivery did not start: %v", err)
	}
	b := newBrowser(t, "ja")
	b.open(c)
	b.goTo(c, fmt.Sprintf("/deliveries/%d", id))
	b.waitText("#p-status", "送信中")
	seen := map[int]bool{}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		n := b.number("#p-sent")
		seen[n] = true
		if n == rows {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	between := 0
	for n := range seen {
		if n > 0 && n < rows {
			between++
		}
	}
	if !seen[rows] || between < 2 {
		t.Fatalf("the page showed %v; want the count moving up to %d", seen, rows)
	}
	b.waitText("#p-status", "完了")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
