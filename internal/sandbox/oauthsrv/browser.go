package oauthsrv

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Browser plays a person at a web browser, for tests and the demo: it opens
// an authorization URL, answers the consent page the way a person clicking
// would (by posting its form) and follows the redirect back to the
// application's loopback address. It reads only what a browser would see.
type Browser struct {
	Client *http.Client // default: a client that does not follow redirects itself
	Email  string       // typed into the consent form ("" keeps what the page suggests)
	Deny   bool         // press Cancel instead of Allow
	// Tamper, if set, may rewrite the redirect back to the application
	// before the browser follows it (to play an attacker).
	Tamper func(u *url.URL)
}

// Landing is where the browser ended: the redirect it followed back to
// the application and the page the application showed.
type Landing struct {
	RedirectURL string
	Status      int
	Body        string
}

func (b *Browser) client() *http.Client {
	if b.Client != nil {
		return b.Client
	}
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var (
	formRE  = regexp.MustCompile(`(?is)<form[^>]*action="([^"]*)"[^>]*>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<input[^>]*name="([^"]*)"[^>]*value="([^"]*)"`)
)

// Authorize opens authURL and answers the consent page, returning the
// redirect URL the server sent the browser to (not yet followed).
func (b *Browser) Authorize(ctx context.Context, authURL string) (*url.URL, error) {
	c := b.client()
	resp, err := get(ctx, c, authURL)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
		return resp.Request.URL.Parse(loc)
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("authorization page: HTTP %d: %s", resp.StatusCode, stripTags(string(body)))
	}
	m := formRE.FindStringSubmatch(string(body))
	if m == nil {
		return nil, errors.New("authorization page has no form")
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return nil, err
	}
	form := url.Values{}
	for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
		form.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	if b.Email != "" {
		form.Set("email", b.Email)
	}
	form.Set("decision", "allow")
	if b.Deny {
		form.Set("decision", "deny")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err = c.Do(req)
	if err != nil {
		return nil, err
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		return nil, fmt.Errorf("consent: HTTP %d: %s", resp.StatusCode, stripTags(string(body)))
	}
	return resp.Request.URL.Parse(loc)
}

// SignIn does Authorize, then follows the redirect to the application.
func (b *Browser) SignIn(ctx context.Context, authURL string) (*Landing, error) {
	u, err := b.Authorize(ctx, authURL)
	if err != nil {
		return nil, err
	}
	if b.Tamper != nil {
		b.Tamper(u)
	}
	resp, err := get(ctx, b.client(), u.String())
	if err != nil {
		return &Landing{RedirectURL: u.String()}, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return &Landing{RedirectURL: u.String(), Status: resp.StatusCode, Body: string(body)}, nil
}

// DeviceLogin enters userCode on the device-login page at verifyURL and
// approves (or, with Deny, declines) the sign-in.
func (b *Browser) DeviceLogin(ctx context.Context, verifyURL, userCode string) error {
	form := url.Values{"user_code": {userCode}, "email": {b.Email}, "decision": {"allow"}}
	if b.Deny {
		form.Set("decision", "deny")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, verifyURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client().Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := "You have signed in"
	if b.Deny {
		want = "You declined"
	}
	if !strings.Contains(string(body), want) {
		return fmt.Errorf("device login refused: %s", stripTags(string(body)))
	}
	return nil
}

func get(ctx context.Context, c *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

func stripTags(s string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(s, " "))), " ")
}
