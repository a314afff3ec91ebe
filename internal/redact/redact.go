// Package redact removes credentials from text bound for a log line, an alert
// or a notification command: those leave the program, so a token that slipped
// into an error message must not leave with them.
package redact

import (
	"regexp"
	"strings"
)

// patterns match the shapes tokens take on the wire: bearer headers, JWTs
// (Microsoft access tokens, ID tokens), Google access and refresh tokens,
// XOAUTH2 initial responses and form or JSON fields named like secrets.
// Each match becomes repl: the mask, or for a named field its name and
// separator followed by the mask.
var patterns = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+`), Mask},
	{regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)?`), Mask},
	{regexp.MustCompile(`\bya29\.[A-Za-z0-9._-]+`), Mask},
	{regexp.MustCompile(`\b1//[A-Za-z0-9._-]{10,}`), Mask},
	// key=value (forms, URLs) and "key": "value" (JSON) always hold a value;
	// after a bare "key:" only a long token-like word is one, so that prose
	// such as "missing client_secret: Google's token endpoint…" stays whole.
	{regexp.MustCompile(`(?i)\b(` + secretKeys + `)(["']?\s*=\s*["']?|["']\s*:\s*["'])[^"'&\s,}]+`), "${1}${2}" + Mask},
	{regexp.MustCompile(`(?i)\b(` + secretKeys + `)(\s*:\s*)[A-Za-z0-9._~+/=-]{12,}`), "${1}${2}" + Mask},
	{regexp.MustCompile(`\bdXNlcj[A-Za-z0-9+/=]{16,}`), Mask}, // base64("user=…\x01auth=Bearer …")
}

const secretKeys = `access_token|refresh_token|id_token|client_secret|password|code_verifier|code`

// Mask is what replaces a secret.
const Mask = "[redacted]"

// String returns s with anything shaped like a credential masked.
func String(s string) string {
	for _, p := range patterns {
		s = p.re.ReplaceAllString(s, p.repl)
	}
	return s
}

// SecretKey reports whether a field name says its value is a credential.
func SecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, w := range []string{"token", "secret", "password", "authorization", "verifier", "passphrase"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// webAddress matches an http(s) address: scheme, optional user info, host,
// and what follows the host.
var webAddress = regexp.MustCompile(`(?i)\b(https?://)([^\s/?#@'"]*@)?([^\s/?#'"]+)([/?#][^\s'"]*)?`)

// Command returns a command line (a --notify-cmd) fit to quote in an error
// or a log: credentials masked as String masks them, and of every http(s)
// address only the scheme and host kept, since webhooks carry their secret
// in the path or the query (…/services/T…/B…/SECRET, ?key=…&token=…).
func Command(s string) string {
	s = webAddress.ReplaceAllStringFunc(s, func(u string) string {
		m := webAddress.FindStringSubmatch(u)
		out := m[1]
		if m[2] != "" {
			out += Mask + "@"
		}
		out += m[3]
		if m[4] != "" {
			out += "/" + Mask
		}
		return out
	})
	return String(s)
}
