package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/bluemoon-mail/bluemoon/internal/sandbox/rehearsal"
)

// bannerShown fails the test unless the sandbox banner is on the page.
func (b *browser) bannerShown(where string) {
	b.t.Helper()
	if !b.visible(".sandbox-banner") || !strings.Contains(b.text(".sandbox-banner"), "サンドボックス") {
		b.t.Errorf("%s: no sandbox banner", where)
	}
}

// The whole rehearsal in Japanese, in a real browser, in the sandbox
// console: the Microsoft-like account signs in through the stand-in's
// consent page and test-sends; a Shift_JIS list goes through the wizard
// to the relay stand-in in ISO-2022-JP with an attachment; the Inbox shows
// every message with its Japanese subject decoded, newest first; the
// message page shows the body, the attachment and the raw source; the
// banner is on every page; emptying asks first.
func TestBrowserSandboxRehearsalShowsDeliveredMailInTheInboxJapanese(t *testing.T) {
	c, _ := startSandbox(t)
	b := newBrowser(t, "ja")
	b.acceptDialogs()
	b.open(c)
	b.bannerShown("accounts")
	b.waitText("main", "info@contoso.example")

	// The sign-in is rehearsed: the stand-in's consent page, a button.
	b.goTo(c, "/accounts/"+rehearsal.MicrosoftAccount+"/oauth")
	b.bannerShown("oauth")
	closeTab := b.allowInNewTab()
	b.waitText("#signin-status", "info@contoso.example としてサインインしました")
	// Back to the console's tab, as the person would (a hidden tab's
	// progress is not polled).
	closeTab()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.BringToFront, cdp.Empty{})
		return err
	}))
	b.goTo(c, "/accounts/"+rehearsal.MicrosoftAccount+"/test")
	b.fill("#subject", "リハーサルのテスト送信")
	b.submit("#test-send-button")
	b.waitText("#test-result", "受け付けました")

	// The wizard: a Shift_JIS list of 5, the relay account, ISO-2022-JP,
	// an attachment with a Japanese name.
	b.do(chromedp.Click("header nav a[href='/deliveries']"), chromedp.WaitVisible("#new-delivery"))
	b.bannerShown("deliveries")
	b.submitNav("#new-delivery")
	b.do(chromedp.SetUploadFiles("#list", []string{writeFileT(t, "会員名簿.csv", sjisList(t, 5, nil))}))
	b.submit("#list-upload")
	b.waitText("#list-format", "Shift_JIS")
	b.submitNav("#to-message")
	b.bannerShown("wizard")
	b.do(chromedp.SetValue("#account", rehearsal.RelayAccount))
	b.do(chromedp.Click(`input[name=charset][value="iso-2022-jp"]`))
	b.do(chromedp.SetUploadFiles("#attach", []string{writeFileT(t, "ご案内.txt", []byte("年末年始の営業日のご案内\r\n"))}))
	b.submit("#attach-upload")
	b.waitText("#attachments", "ご案内.txt")
	b.do(chromedp.SetValue("#account", rehearsal.RelayAccount))
	b.fill("#subject", "{{.氏名}} 様 12月のお知らせ")
	b.fill("#text", "{{.氏名}} 様\nいつもありがとうございます。会員番号 {{.会員番号}}")
	b.submit("#to-preview")
	b.waitText("#preview-subject", "会員 2 号 様 12月のお知らせ")
	b.submitNav("#to-check")
	b.waitText("#check-ready", "5")
	b.submit("#send-now")
	b.waitText("#p-status", "完了")

	// The Inbox: six messages, newest first, subjects decoded.
	b.do(chromedp.Click("header nav a[href='/inbox']"), chromedp.WaitVisible("#inbox"))
	b.bannerShown("inbox")
	b.waitText("#inbox-count", "6 件中")
	rows := evalJS[[]string](b, `Array.from(document.querySelectorAll('#inbox tbody td.subject')).map(e => e.innerText)`)
	if len(rows) != 6 || rows[5] != "リハーサルのテスト送信" {
		t.Fatalf("the inbox lists %q", rows)
	}
	for i := 2; i <= 6; i++ {
		want := "会員 " + string(rune('0'+i)) + " 号 様 12月のお知らせ"
		found := false
		for _, s := range rows[:5] {
			found = found || s == want
		}
		if !found {
			t.Errorf("the inbox lacks %q (it lists %q)", want, rows)
		}
	}
	b.waitText("#inbox", "SMTP リレー")
	b.waitText("#inbox", "Microsoft 代替 SMTP")

	// One message: headers, body and attachment decoded, the source.
	b.do(chromedp.Click(`#inbox tbody tr td.subject a`))
	b.do(chromedp.WaitVisible("#msg-subject"))
	b.bannerShown("message")
	if got := b.text("#msg-subject"); !strings.HasSuffix(got, "号 様 12月のお知らせ") {
		t.Fatalf("the message page's subject: %q", got)
	}
	b.waitText("#msg-text", "いつもありがとうございます。")
	b.waitText("#msg-attachments", "ご案内.txt")
	b.waitText("#msg-headers", "iso-2022-jp")
	b.do(chromedp.Click("#msg-source-box summary"))
	b.waitText("#msg-source", "Subject: =?ISO-2022-JP?")

	// Emptying asks (the dialog is accepted) and says what it removed.
	b.goTo(c, "/inbox")
	b.submit("#inbox-empty")
	b.waitText("main", "6 件のメッセージを削除しました")
	b.waitText("#inbox-none", "まだ何も届いていません")
	b.bannerShown("empty inbox")
}
