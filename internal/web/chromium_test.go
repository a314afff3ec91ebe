package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The console's tests drive a real Chromium (Debian's package; .ci/browser
// installs it in CI). Without one they skip and say so, except where
// BLUEMOON_REQUIRE_BROWSER is set (CI), where a missing browser fails.

func chromiumPath(t *testing.T) string {
	t.Helper()
	cands := []string{os.Getenv("BLUEMOON_CHROMIUM"), "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}
	for _, c := range cands {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	msg := "no Chromium found (install Debian's chromium and fonts-noto-cjk, as .ci/browser does, or set BLUEMOON_CHROMIUM)"
	if os.Getenv("BLUEMOON_REQUIRE_BROWSER") != "" {
		t.Fatal(msg + "; BLUEMOON_REQUIRE_BROWSER is set, so this is a failure")
	}
	t.Skip(msg)
	return ""
}

// browser is one headless Chromium with its own empty profile.
type browser struct {
	t   *testing.T
	ctx context.Context
}

// newBrowser starts Chromium for the test, asking for pages in lang
// (Accept-Language), at a 1280 × 800 window.
func newBrowser(t *testing.T, lang string) *browser {
	t.Helper()
	path := chromiumPath(t)
	// The flags keep Chromium from reaching out to Google's services, which
	// this machine's closed network refuses many times a second.
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("lang", lang),
		chromedp.Flag("accept-lang", lang),
		chromedp.WindowSize(1280, 800),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	// The first call starts the browser; it must not carry a deadline,
	// which would end the browser with it.
	locale := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: lang})
		return err
	})
	if err := chromedp.Do(ctx, locale); err != nil {
		t.Fatalf("starting Chromium (%s): %v", path, err)
	}
	b := &browser{t: t, ctx: ctx}
	b.headers(lang)
	return b
}

// headers makes every request of the tab carry Accept-Language: lang.
func (b *browser) headers(lang string) {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Accept-Language": lang}})
		return err
	}))
}

// timeout bounds one step: generous, because a busy machine is slow, never wrong.
const timeout = 45 * time.Second

// do runs steps, failing the test on error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v\n%s", err, b.pageText())
	}
}

// get runs one action that returns a value.
func get[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v\n%s", err, b.pageText())
	}
	return v
}

// text is the visible text of the first element matching the CSS selector.
func (b *browser) text(sel string) string {
	b.t.Helper()
	b.do(chromedp.WaitVisible(sel))
	return get(b, chromedp.Text(sel))
}

// eval runs JavaScript in the page and returns its value.
func evalJS[T any](b *browser, js string) T {
	b.t.Helper()
	return get(b, chromedp.Evaluate[T](js))
}

// pageText is where the browser is and what it shows, for failure messages.
func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	txt, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return "page " + loc + ":\n" + txt
}
