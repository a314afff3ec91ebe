package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
)

// standIn is a provider the browser tests sign in to and send through.
type standIn struct {
	oauth *oauthsrv.Server
	smtp  *smtpsrv.Server
	from  string
	ca    string // the SMTP server's CA file
}

func startStandIn(t *testing.T, kind provider.Kind, from string) *standIn {
	t.Helper()
	o, err := oauthsrv.New(oauthsrv.Options{Flavor: kind, ClientID: "console-" + string(kind) + "-client", Email: from})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	flavor, sec := smtpsrv.Microsoft, smtpsrv.StartTLS
	if kind == provider.Google {
		flavor, sec = smtpsrv.Gmail, smtpsrv.ImplicitTLS
	}
	s, err := smtpsrv.Start(smtpsrv.Options{Flavor: flavor, Security: sec,
		Passwords: map[string]string{"relay@example.org": "relay-password"},
		CheckToken: func(user, token string) error {
			sub, _, err := o.ValidateAccessToken(token)
			if err != nil {
				return err
			}
			if sub != user {
				return fmt.Errorf("token of %s used for %s", sub, user)
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ca, err := s.WriteCAFile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &standIn{oauth: o, smtp: s, from: from, ca: ca}
}

// open logs the browser in with a fresh one-time URL and waits for the page.
// allowInNewTab presses the page's sign-in button and, on the stand-in's
// consent page it opens in a new tab, allows; close closes that tab.
func (b *browser) allowInNewTab() (close func()) {
	newTab := chromedp.WaitNewTarget(b.ctx, func(i *target.Info) bool { return i.Type == "page" })
	b.do(chromedp.Click("#signin-button"))
	tab, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(<-newTab))
	tb := &browser{t: b.t, ctx: tab}
	tb.do(chromedp.WaitVisible(`button[value=allow]`), chromedp.Click(`button[value=allow]`))
	return cancel
}

func (b *browser) open(c *console) {
	b.t.Helper()
	b.do(chromedp.Navigate(c.srv.LoginURL()), chromedp.WaitVisible("main h1"))
}

func (b *browser) goTo(c *console, path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(c.srv.BaseURL()+path), chromedp.WaitVisible("main h1"))
}

// submit clicks sel and waits until the page it leads to has loaded.
func (b *browser) submit(sel string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](`window.__before = true`), chromedp.Click(sel))
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		arrived, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__before !== true && document.readyState === 'complete'`))
		cancel()
		// An error is the old page going away under the question
		// ("Inspected target navigated or closed", seen under load): the
		// navigation is under way, ask again.
		if err == nil && arrived {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("clicking %s led to no new page\n%s", sel, b.pageText())
}

// fill sets an input's value as typing would, firing input/change events.
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(sel),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(function(e){e.value='';e.dispatchEvent(new Event('input',{bubbles:true}))})(document.querySelector(%q))`, sel)),
		chromedp.SendKeys(sel, value))
}

func (b *browser) value(sel string) string {
	b.t.Helper()
	return evalJS[string](b, fmt.Sprintf(`document.querySelector(%q).value`, sel))
}

func (b *browser) visible(sel string) bool {
	b.t.Helper()
	return evalJS[bool](b, fmt.Sprintf(`(function(){var e=document.querySelector(%q);return !!e && !e.closest('[hidden]') && e.offsetParent!==null})()`, sel))
}

// waitText waits until the element's text contains want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		last = evalJS[string](b, fmt.Sprintf(`(function(){var e=document.querySelector(%q);return e?e.innerText:""})()`, sel))
		if strings.Contains(last, want) {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.t.Fatalf("%s never said %q; last: %q", sel, want, last)
}

// waitJS waits until the JavaScript condition holds.
func (b *browser) waitJS(cond string) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if evalJS[bool](b, cond) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Fatalf("never true: %s\n%s", cond, b.pageText())
}

// credArea presses Ctrl + Shift + Alt + 9, the guide's way to the hidden area.
func (b *browser) credAreaKeys() {
	b.t.Helper()
	b.do(chromedp.KeyEvent("9", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierShift, chromedp.ModifierAlt)))
}

// downloadsTo makes downloads land in dir.
func (b *browser) downloadsTo(dir string) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	}))
}

// acceptDialogs answers every confirm() with OK, as the person would.
func (b *browser) acceptDialogs() {
	events := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range events {
			if err != nil {
				return
			}
			go chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
}

func waitFile(t *testing.T, dir, suffix string) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), suffix) {
				return filepath.Join(dir, e.Name())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no *%s file appeared in %s", suffix, dir)
	return ""
}
