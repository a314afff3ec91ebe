package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWithoutTheTokenEveryPageSaysHowToOpenTheConsole(t *testing.T) {
	c := startConsole(t)
	for _, p := range []string{"/", "/accounts", "/accounts/new", "/oauth"} {
		resp, err := http.Get(c.srv.BaseURL() + p)
		if err != nil {
			t.Fatal(err)
		}
		b := body(t, resp)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(b, "bluemoon console") {
			t.Errorf("%s without a session: %s, want 401 saying to run 'bluemoon console'; body:\n%s", p, resp.Status, b)
		}
	}
}

func TestLoginTokenBecomesAStrictHttpOnlyCookieAndWorksOnce(t *testing.T) {
	c := startConsole(t)
	login := c.srv.LoginURL()
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(login)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %s to %q, want 303 to / (the token leaves the address bar)", resp.Status, resp.Header.Get("Location"))
	}
	sc := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(sc, want) {
			t.Errorf("session cookie %q lacks %s", sc, want)
		}
	}
	resp, err = hc.Get(login)
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); resp.StatusCode != http.StatusUnauthorized || strings.Contains(resp.Header.Get("Set-Cookie"), "bluemoon_session") {
		t.Fatalf("second use of a login token: %s, cookie %q; want 401 and no session\n%s", resp.Status, resp.Header.Get("Set-Cookie"), b)
	}
}

func TestWrongHostIsRefused(t *testing.T) {
	c := startConsole(t)
	hc := c.client()
	for _, host := range []string{"evil.example", "evil.example:" + port(c), "127.0.0.1.nip.io:" + port(c)} {
		req, _ := http.NewRequest("GET", c.srv.BaseURL()+"/accounts", nil)
		req.Host = host
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if b := body(t, resp); resp.StatusCode != http.StatusMisdirectedRequest || strings.Contains(b, "<html") {
			t.Errorf("Host %q: %s, want 421 and no page\n%s", host, resp.Status, b)
		}
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func TestCrossOriginAndTokenlessPostsAreRefused(t *testing.T) {
	c := startConsole(t)
	hc := c.client()
	resp, err := hc.Get(c.srv.BaseURL() + "/accounts/new")
	if err != nil {
		t.Fatal(err)
	}
	m := csrfRE.FindStringSubmatch(body(t, resp))
	if m == nil {
		t.Fatal("the account form carries no CSRF token")
	}
	form := url.Values{"csrf": {m[1]}, "name": {"evil"}, "from": {"evil@example.com"}, "auth_choice": {"none"},
		"smtp_host": {"127.0.0.1"}, "smtp_port": {"25"}, "security": {"none"}}
	post := func(origin string, f url.Values) int {
		req, _ := http.NewRequest("POST", c.srv.BaseURL()+"/accounts/new", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("http://evil.example", form); code != http.StatusForbidden {
		t.Errorf("cross-origin POST: %d, want 403", code)
	}
	if code := post("", form); code != http.StatusForbidden {
		t.Errorf("POST without Origin: %d, want 403", code)
	}
	noToken := url.Values{}
	for k, v := range form {
		noToken[k] = v
	}
	noToken.Set("csrf", "forged")
	if code := post(c.srv.BaseURL(), noToken); code != http.StatusForbidden {
		t.Errorf("same-origin POST with a wrong CSRF token: %d, want 403", code)
	}
	if list, _ := c.svc.Accounts(t.Context()); len(list) != 0 {
		t.Fatalf("a refused POST added an account: %+v", list[0].Account)
	}
	if code := post(c.srv.BaseURL(), form); code != http.StatusOK {
		t.Errorf("same-origin POST with the token: %d, want 200 after the redirect", code)
	}
	if list, _ := c.svc.Accounts(t.Context()); len(list) != 1 {
		t.Fatalf("the good POST did not add the account: %d accounts", len(list))
	}
}

func TestEveryResponseCarriesAStrictContentSecurityPolicy(t *testing.T) {
	c := startConsole(t)
	hc := c.client()
	resp, err := hc.Get(c.srv.BaseURL() + "/accounts")
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, resp)
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'nonce-", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "http") {
		t.Errorf("CSP %q allows inline script or another origin", csp)
	}
	nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(csp)[1]
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(b, -1) {
		if !strings.Contains(tag, `nonce="`+nonce+`"`) {
			t.Errorf("script tag without the response's nonce: %s", tag)
		}
	}
	if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(b) {
		t.Error("the page refers to another origin")
	}
}

func port(c *console) string {
	u, _ := url.Parse(c.srv.BaseURL())
	return u.Port()
}
