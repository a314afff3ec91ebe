package web_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"
)

// unsubscribeWorkbook is an .xlsx whose first sheet is a note and whose
// second, 配信停止, lists people with Japanese names; the row named in
// bad (1-based, header = 1) holds something that is not an address.
func unsubscribeWorkbook(t *testing.T, n, bad int) string {
	t.Helper()
	wb := excelize.NewFile()
	defer wb.Close()
	wb.SetSheetName("Sheet1", "メモ")
	wb.SetCellValue("メモ", "A1", "11月の配信停止依頼（総務部まとめ）")
	if _, err := wb.NewSheet("配信停止"); err != nil {
		t.Fatal(err)
	}
	wb.SetSheetRow("配信停止", "A1", &[]any{"氏名", "メール", "受付日"})
	for i := 2; i <= n+1; i++ {
		addr := fmt.Sprintf("teishi%03d@example.net", i)
		if i == bad {
			addr = "佐藤 次郎（アドレス不明）"
		}
		wb.SetSheetRow("配信停止", fmt.Sprintf("A%d", i), &[]any{fmt.Sprintf("停止 %d 郎", i), addr, "2026-11-30"})
	}
	p := filepath.Join(t.TempDir(), "配信停止依頼.xlsx")
	if err := wb.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// confirmLog answers confirm() as told (accept or not) and keeps what each asked.
type confirmLog struct {
	accept atomic.Bool
	mu     sync.Mutex
	asked  []string
}

func (b *browser) answerConfirms() *confirmLog {
	d := &confirmLog{}
	events := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range events {
			if err != nil {
				return
			}
			d.mu.Lock()
			d.asked = append(d.asked, ev.Message)
			d.mu.Unlock()
			go chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: d.accept.Load()})
		}
	}()
	return d
}

func (d *confirmLog) all() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string{}, d.asked...)
}

// The suppression list in Japanese, in a real browser: add an address and
// see it, refuse a malformed one beside its field, search, import an
// Excel list from its second sheet with one bad row (named by its row),
// remove one after confirming, download the list; then a delivery's
// list step counts those addresses as suppressed.
func TestBrowserSuppressionListJapanese(t *testing.T) {
	c := startConsole(t)
	b := newBrowser(t, "ja")
	dl := b.answerConfirms()
	downloads := t.TempDir()
	b.downloadsTo(downloads)
	b.open(c)

	b.do(chromedp.Click("header nav a[href='/suppression']"), chromedp.WaitVisible("#add-form"))
	b.waitText("main#main h1", "配信停止リスト")
	b.waitText("#suppress-range", "リストは空です")

	b.fill("#address", "Yamada.Hanako@Example.JP")
	b.fill("#reason", "電話で配信停止の依頼")
	b.submit("#add-button")
	b.waitText("main#main .flash-ok", "Yamada.Hanako@Example.JP を配信停止リストに追加しました")
	row := b.text("#suppressions tbody tr")
	if !strings.Contains(row, "Yamada.Hanako@Example.JP") || !strings.Contains(row, "電話で配信停止の依頼") || !strings.Contains(row, "年") {
		t.Fatalf("the new row: %q", row)
	}
	// A display name is not an address: said beside the field, what was typed kept.
	b.fill("#address", "山田 花子 <hanako@example.jp>")
	b.submit("#add-button")
	b.waitText("#err-address", "メールアドレス: 「山田 花子 <hanako@example.jp>」はアドレスだけになっていません")
	if b.value("#address") != "山田 花子 <hanako@example.jp>" || evalJS[string](b, `document.activeElement.id`) != "address" {
		t.Fatal("the address typed is not kept, or the field not focused")
	}
	// The same address again, in other capitals, is said to be there.
	b.fill("#address", "yamada.hanako@example.jp")
	b.submit("#add-button")
	b.waitText("main#main .flash-warn", "すでに配信停止リストにあります")

	// Import: the first sheet is a note; the second is chosen, and its
	// address column.
	b.do(chromedp.SetUploadFiles("#list", []string{unsubscribeWorkbook(t, 12, 5)}))
	b.submit("#import-upload")
	b.waitText("main#main h1", "配信停止リストに取り込む")
	b.waitText("#list-format", "Excel")
	b.do(chromedp.SetValue("#sheet", "配信停止"))
	b.submit("#list-apply")
	b.waitText("#list-sample", "停止 2 郎")
	if b.value("#email_column") != "メール" {
		b.do(chromedp.SetValue("#email_column", "メール"))
		b.submit("#list-apply")
	}
	b.waitText("#list-problems", "佐藤 次郎（アドレス不明）")
	if got := b.text("#list-problems tbody tr td"); got != "5" || b.number("#count-valid") != 11 {
		t.Fatalf("review: bad row %q, %d to add", got, b.number("#count-valid"))
	}
	b.fill("#reason", "11月の配信停止依頼")
	b.submit("#import-run")
	b.waitText("#import-result", "取り込み結果")
	if b.number("#result-added") != 11 || b.number("#result-already") != 0 || b.number("#result-rejected") != 1 {
		t.Fatalf("result: %d added, %d already, %d rejected", b.number("#result-added"), b.number("#result-already"), b.number("#result-rejected"))
	}
	if got := b.text("#rejected tbody tr"); !strings.Contains(got, "5") || !strings.Contains(got, "佐藤 次郎（アドレス不明）") {
		t.Fatalf("the rejected row: %q", got)
	}
	b.submit("#to-list")
	b.waitText("#suppress-count", "登録アドレス: 12 件")

	// Search: part of the address, any case.
	b.fill("#q", "TEISHI00")
	b.submit("#search-button")
	b.waitText("#suppress-range", "7 件中 1〜7 件目")
	if n := evalJS[int](b, `document.querySelectorAll('#suppressions tbody tr').length`); n != 7 {
		t.Fatalf("the search shows %d rows", n)
	}
	b.waitText("#suppressions", "11月の配信停止依頼")

	// Remove asks first: declined, nothing happens; accepted, it goes.
	sel := `#suppressions form[action="/suppression/remove"] button`
	first := b.text("#suppressions tbody tr td.addr")
	b.do(chromedp.Click(sel))
	pollUntil(t, func() bool { return len(dl.all()) == 1 })
	if !strings.Contains(dl.all()[0], first+" を配信停止リストから削除しますか") {
		t.Fatalf("the confirmation said %q", dl.all()[0])
	}
	if n, _ := c.svc.SuppressionCount(t.Context()); n != 12 {
		t.Fatalf("declining removed it anyway (%d left)", n)
	}
	dl.accept.Store(true)
	b.submit(sel)
	b.waitText("main#main .flash-ok", first+" を配信停止リストから削除しました")
	b.waitText("#suppress-range", "6 件中 1〜6 件目")
	if strings.Contains(b.text("#suppressions"), first) {
		t.Fatalf("%s is still shown", first)
	}

	// The export has what the list has.
	b.do(chromedp.Click("#suppress-export"))
	rows := readReport(t, waitFile(t, downloads, ".csv"))
	if len(rows) != 12 || strings.Join(rows[0], ",") != "email,reason,added_at" {
		t.Fatalf("export: %d lines, header %q", len(rows), rows[0])
	}
	got := map[string]string{}
	for _, r := range rows[1:] {
		got[r[0]] = r[1]
	}
	if got["Yamada.Hanako@Example.JP"] != "電話で配信停止の依頼" || got["teishi012@example.net"] != "11月の配信停止依頼" || got[first] != "" || len(got) != 11 {
		t.Fatalf("export rows: %v", got)
	}

	// A delivery's list step leaves them out.
	list := "氏名,email\n山田 花子,yamada.hanako@example.jp\n停止 3 郎,teishi003@example.net\n停止 6 郎,teishi006@example.net\n新規,new@example.jp\n" +
		fmt.Sprintf("消した人,%s\n", first)
	b.goTo(c, "/deliveries/new")
	b.do(chromedp.SetUploadFiles("#list", []string{writeFileT(t, "会員.csv", []byte(list))}))
	b.submit("#list-upload")
	b.waitText("#list-rows", "5")
	if b.number("#count-suppressed") != 3 || b.number("#count-valid") != 2 {
		t.Fatalf("the wizard counts %d suppressed, %d to send", b.number("#count-suppressed"), b.number("#count-valid"))
	}
}

func pollUntil(t *testing.T, cond func() bool) {
	t.Helper()
	for range 200 {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("timed out")
}
