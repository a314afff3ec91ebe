package peertest

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// discovery is the part of oidc-provider's /.well-known/openid-configuration the tests use.
type discovery struct {
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	Revocation    string `json:"revocation_endpoint"`
	Introspection string `json:"introspection_endpoint"`
	Userinfo      string `json:"userinfo_endpoint"`
}

func discover(t *testing.T, issuer string) discovery {
	t.Helper()
	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("oidc-provider discovery: %v", err)
	}
	defer resp.Body.Close()
	var d discovery
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || d.Authorization == "" || d.Token == "" {
		t.Fatalf("oidc-provider discovery: %v (%+v)", err, d)
	}
	return d
}

// browser plays the person in front of a web browser: it follows oidc-provider's redirects
// with a cookie jar and fills in the devInteractions login form (any login and password are
// accepted; the login becomes the token's subject) and the consent form, until the server
// redirects to the loopback address of the app.
type browser struct {
	login    string
	client   *http.Client
	issuer   *url.URL
	Pages    int // pages visited, for failure messages
	lastPage string
}

func newBrowser(t *testing.T, issuer, login string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	iu, err := url.Parse(issuer)
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{login: login, issuer: iu}
	b.client = &http.Client{
		Jar: jar,
		// Follow redirects within the OAuth server; stop at the one that leaves it (to the
		// app's loopback redirect URI) so the caller decides what to do with it.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != b.issuer.Host {
				return http.ErrUseLastResponse
			}
			if len(via) > 20 {
				return fmt.Errorf("too many redirects")
			}
			return nil
		},
	}
	return b
}

var (
	formRE  = regexp.MustCompile(`(?s)<form[^>]*action="([^"]*)"[^>]*method="post"[^>]*>(.*?)</form>`)
	inputRE = regexp.MustCompile(`<input[^>]*\bname="([^"]*)"[^>]*>`)
	valueRE = regexp.MustCompile(`\bvalue="([^"]*)"`)
)

// authorize opens authURL and works through the login and consent pages. It returns the URL the
// server finally redirected to (the app's redirect URI with code and state), without visiting it.
func (b *browser) authorize(ctx context.Context, authURL string) (*url.URL, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return nil, err
	}
	for step := 0; step < 10; step++ {
		resp, err := b.client.Do(req)
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b.Pages++
		b.lastPage = string(body)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			loc, err := resp.Location()
			if err != nil {
				return nil, err
			}
			return loc, nil // left the OAuth server: the redirect to the app
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: HTTP %d: %s", req.URL, resp.StatusCode, firstText(string(body)))
		}
		m := formRE.FindStringSubmatch(string(body))
		if m == nil {
			return nil, fmt.Errorf("%s: no form on the page: %s", req.URL, firstText(string(body)))
		}
		action, err := req.URL.Parse(html.UnescapeString(m[1]))
		if err != nil {
			return nil, err
		}
		form := url.Values{}
		for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
			name := in[1]
			switch name {
			case "login":
				form.Set(name, b.login)
			case "password":
				form.Set(name, "any password works with devInteractions")
			default:
				if v := valueRE.FindStringSubmatch(in[0]); v != nil {
					form.Set(name, html.UnescapeString(v[1]))
				}
			}
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, action.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return nil, fmt.Errorf("no redirect to the app after %d pages; last page: %s", b.Pages, firstText(b.lastPage))
}

// visit does what a browser does with the redirect authorize returned: it opens the app's
// loopback address and returns the landing page the app serves there.
func (b *browser) visit(ctx context.Context, u *url.URL) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

// firstText is the start of a page's text, for error messages.
func firstText(page string) string {
	s := regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(page, " ")
	s = strings.Join(strings.Fields(html.UnescapeString(s)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
