// Package mailapi sends messages through the providers' HTTPS mail APIs,
// for accounts whose tenant or domain keeps SMTP AUTH off: Microsoft
// Graph's sendMail and the Gmail API's users.messages.send. Both take the
// very MIME message the SMTP path builds, so charsets (ISO-2022-JP) and
// attachments come out the same.
//
// It is plain net/http: one Client per account, whose connections (HTTP/2
// where offered) are reused by every worker of a delivery; per-request
// deadlines sized to the message; context cancellation; Retry-After kept
// per account, so that one 429 slows every worker down, not just one.
// The official SDKs were not used: they would add hundreds of packages for
// two POST requests.
//
// Errors are *Error and answer what the delivery engine asks
// (Temporary, AuthFailure, Uncertain, NotSent, SettingsProblem), plus
// RetryAfter and DailyLimit.
package mailapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// DefaultMaxWait is the longest Send waits for a Retry-After to pass
// before giving the message back deferred, unsent.
const DefaultMaxWait = 30 * time.Second

// Client sends one account's messages through its provider's API. It is
// safe for concurrent use; share one per account.
type Client struct {
	api     service
	base    string
	tokens  transport.TokenSource
	http    *http.Client
	timeout time.Duration
	// MaxWait bounds how long Send waits for the service's Retry-After
	// (DefaultMaxWait when zero).
	MaxWait time.Duration

	mu       sync.Mutex
	notUntil time.Time // no request before this (the service's Retry-After)
	refused  string    // the access token the service last refused

	requests atomic.Int64
}

// service is what differs between Graph and Gmail.
type service interface {
	name() string
	// request builds the HTTP request that sends msg.
	request(ctx context.Context, base string, msg []byte) (*http.Request, error)
	// accepted turns a 2xx reply into the reply recorded for the message.
	accepted(resp *http.Response, body []byte) transport.Reply
	// refusal classifies a non-2xx reply; wait is its Retry-After.
	refusal(resp *http.Response, body []byte, wait time.Duration) *Error
}

// New returns the client for cfg.Via (graph or gmail-api), with cfg.Tokens
// giving access tokens for the API's scope and cfg.APIEndpoint its base
// URL. The TLS settings of cfg (CA file, client certificate) apply.
func New(cfg transport.Config) (*Client, error) {
	var api service
	switch cfg.Via {
	case account.ViaGraph:
		api = graph{}
	case account.ViaGmailAPI:
		api = gmail{}
	default:
		return nil, fmt.Errorf("mailapi: via %q is not an HTTPS API (use graph or gmail-api)", cfg.Via)
	}
	if cfg.Tokens == nil {
		return nil, fmt.Errorf("--via %s signs in with OAuth: the account needs --auth xoauth2 and a sign-in", cfg.Via)
	}
	base, err := checkEndpoint(cfg.APIEndpoint)
	if err != nil {
		return nil, err
	}
	tc, err := cfg.TLSConfig()
	if err != nil {
		return nil, err
	}
	tc.ServerName = "" // the API's host, not the SMTP server's
	dial := cfg.DialContext
	if dial == nil {
		dial = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         dial,
		TLSClientConfig:     tc,
		ForceAttemptHTTP2:   true,
		TLSHandshakeTimeout: 15 * time.Second,
		MaxIdleConnsPerHost: 8,
		// Below the services' own idle timeouts, so a request seldom goes
		// out on a connection the server is closing: that request would
		// have been written and then fail, which is recorded as unknown.
		IdleConnTimeout: 30 * time.Second,
	}
	hc := &http.Client{
		Transport: tr,
		// A redirect is never expected from a send; following one would
		// repeat the POST (and, to another host, drop or leak the token).
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &Client{api: api, base: base, tokens: cfg.Tokens, http: hc, timeout: cfg.RequestTimeout()}, nil
}

// checkEndpoint accepts an https URL, or http on the loopback address
// (the stand-ins): a bearer token never crosses a network in clear.
func checkEndpoint(s string) (string, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("api_endpoint %q is not an https URL (see 'bluemoon credentials show')", s)
	}
	if u.Scheme == "http" {
		h := u.Hostname()
		if ip := net.ParseIP(h); (ip == nil || !ip.IsLoopback()) && h != "localhost" {
			return "", fmt.Errorf("api_endpoint %q: plain http is allowed only on this machine (127.0.0.1); use https", s)
		}
	}
	return u.String(), nil
}

// Name is the API's name as errors and replies show it.
func (c *Client) Name() string { return c.api.name() }

// Requests counts the requests made (tests, benchmarks).
func (c *Client) Requests() int64 { return c.requests.Load() }

// Close drops the idle connections.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// Send hands msg to the API. The recipients are the message's own To, Cc
// and Bcc headers (both APIs read them), so every envelope address in to
// must appear there: the API would not send to any other.
func (c *Client) Send(ctx context.Context, from string, to []string, msg []byte) (transport.Reply, error) {
	name := c.api.name()
	if err := checkRecipients(msg, to); err != nil {
		return transport.Reply{}, &Error{API: name, Class: transport.Permanent, Message: err.Error()}
	}
	if err := c.waitTurn(ctx); err != nil {
		return transport.Reply{}, err
	}
	tok, err := c.tokens.AccessToken(ctx)
	if err != nil {
		return transport.Reply{}, tokenError(name, err)
	}
	// Long enough for the upload at a slow 16 KiB/s, as for SMTP's DATA.
	rctx, cancel := context.WithTimeout(ctx, c.timeout+time.Duration(len(msg)/16384)*time.Second)
	defer cancel()
	var wrote atomic.Bool
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	})
	req, err := c.api.request(rctx, c.base, msg)
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			return transport.Reply{}, ae
		}
		return transport.Reply{}, &Error{API: name, Class: transport.Permanent, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	c.requests.Add(1)
	resp, err := c.http.Do(req)
	if err != nil {
		return transport.Reply{}, networkError(name, stripURL(err), wrote.Load())
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		return c.api.accepted(resp, body), nil // the verdict is in: a broken body changes nothing
	}
	if rerr != nil && len(body) == 0 {
		return transport.Reply{}, networkError(name, rerr, true)
	}
	e := c.api.refusal(resp, body, retryAfter(resp.Header.Get("Retry-After"), time.Now()))
	if e.AuthFailure() && !e.settings {
		c.mu.Lock()
		c.refused = tok
		c.mu.Unlock()
	}
	if e.throttled && !e.daily {
		// Every worker of the account backs off, not only this one: at
		// least a second when the service did not say how long.
		c.holdOff(max(e.retryAfter, time.Second))
	}
	return transport.Reply{}, e
}

// waitTurn waits out a Retry-After the service gave another request of
// this account; a long one gives the message back unsent and deferred.
func (c *Client) waitTurn(ctx context.Context) error {
	c.mu.Lock()
	wait := time.Until(c.notUntil)
	c.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	max := c.MaxWait
	if max <= 0 {
		max = DefaultMaxWait
	}
	if wait > max {
		return &Error{API: c.api.name(), Class: transport.Temporary, throttled: true, notSent: true, retryAfter: wait,
			Message: fmt.Sprintf("the service asked this account to wait %s before the next request", wait.Round(time.Second)),
			Advice:  "bluemoon tries this message again after that"}
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return &Error{API: c.api.name(), Class: transport.Temporary, notSent: true, Err: ctx.Err()}
	}
}

// holdOff keeps every request of the account back for d.
func (c *Client) holdOff(d time.Duration) {
	c.mu.Lock()
	if until := time.Now().Add(d); until.After(c.notUntil) {
		c.notUntil = until
	}
	c.mu.Unlock()
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(h); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return min(t.Sub(now), 24*time.Hour)
	}
	return 0
}

// checkRecipients makes sure every envelope address is in the message's
// header section, where the APIs take the recipients from.
func checkRecipients(msg []byte, to []string) error {
	if len(to) == 0 {
		return errors.New("no recipients")
	}
	end := bytes.Index(msg, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(msg)
	}
	head := msg[:end]
	for _, a := range to {
		if a == "" || !containsFold(head, a) {
			return fmt.Errorf("recipient <%s> is not in the message's To, Cc or Bcc header, and the API sends only to those", a)
		}
	}
	return nil
}

// containsFold is a case-insensitive bytes.Contains for an ASCII needle,
// without copying the haystack.
func containsFold(h []byte, needle string) bool {
	n := len(needle)
	for i := 0; i+n <= len(h); i++ {
		if asciiEqualFold(h[i:i+n], needle) {
			return true
		}
	}
	return false
}

func asciiEqualFold(b []byte, s string) bool {
	for i := 0; i < len(s); i++ {
		x, y := b[i], s[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// stripURL drops the *url.Error wrapper, whose text repeats the URL.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// oneLine tidies a service's message for an error: one line, bounded.
// Only the service's words go into errors, never anything of the request.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return s
}

// RefreshRefused gets a new access token after the service refused one.
// The sessions of a delivery share the client, and each refused session
// asks for a refresh: naming the token refused, rather than the one held
// at the time of asking, makes them share one refresh (one that asks after
// another refreshed gets the new token), as SMTP connections do.
func (c *Client) RefreshRefused(ctx context.Context) (string, error) {
	c.mu.Lock()
	refused := c.refused
	c.mu.Unlock()
	return c.tokens.RefreshRefused(ctx, refused)
}

// SendOne is Send for a single message outside a delivery (test send,
// keep-alive): when the API refuses the token it forces one refresh and
// tries once more, as transport.Dial does for SMTP.
func (c *Client) SendOne(ctx context.Context, from string, to []string, msg []byte) (transport.Reply, error) {
	r, err := c.Send(ctx, from, to, msg)
	var e *Error
	if err == nil || !errors.As(err, &e) || !e.AuthFailure() || e.settings || e.Status == 0 {
		return r, err
	}
	if _, rerr := c.RefreshRefused(ctx); rerr != nil {
		return transport.Reply{}, fmt.Errorf("%w; refreshing the token also failed: %w", err, rerr)
	}
	return c.Send(ctx, from, to, msg)
}
