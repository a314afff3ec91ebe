package cli

import (
	"strings"
	"testing"
)

// --via graph (or gmail-api) with a credential file of the other provider
// is refused saying what the file is for and what to do, as with SMTP:
// not only that the way needs a file of its provider.
func TestAccountAddViaAnAPIWithTheOtherProvidersFileSaysWhose(t *testing.T) {
	h := withCredentials(t)
	for _, tc := range []struct{ creds, via, isFor, alt string }{
		{"g", "graph", "are for google, but --via graph sends with a microsoft sign-in", "--via gmail-api"},
		{"m", "gmail-api", "are for microsoft, but --via gmail-api sends with a google sign-in", "--via graph"},
	} {
		r := runCLI(t, h, "", "account", "add", "x", "--from", "a@example.com", "--credentials", tc.creds, "--via", tc.via)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.isFor) || !strings.Contains(r.Stderr, "bluemoon credentials import") ||
			!strings.Contains(r.Stderr, tc.alt) {
			t.Errorf("--credentials %s --via %s: exit %d, want 2 saying what the file is for and what to do\n%s", tc.creds, tc.via, r.Code, r.Stderr)
		}
		if r := runCLI(t, h, "", "account", "show", "x"); r.Code == 0 {
			t.Fatalf("--credentials %s --via %s: the account was saved", tc.creds, tc.via)
		}
	}
}
