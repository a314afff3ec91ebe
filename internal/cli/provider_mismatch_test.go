package cli

import (
	"path/filepath"
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

// credentials import --replace checks every account that signs in with the
// name, as the console's import for an account does: a file one of them
// could not use (the other provider's, or one whose provider's server or
// API way the account does not use) is refused, naming the accounts and
// what to do, and nothing is imported. A file they can all use replaces.
func TestImportReplaceRefusesAFileAccountsUsingTheNameCannotUse(t *testing.T) {
	h := withCredentials(t)
	mustRun(t, h, "account", "add", "gmail", "--from", "news@example.com", "--credentials", "g")
	mustRun(t, h, "account", "add", "gapi", "--from", "info@example.com", "--credentials", "g", "--via", "gmail-api")
	mustRun(t, h, "account", "add", "m365", "--from", "info@contoso.com", "--credentials", "m")
	admin := newHome(t)
	ms := filepath.Join(t.TempDir(), "other.bmcred")
	mustRun(t, admin, "credentials", "create", "--provider", "microsoft", "--client-id", "cid2", "--out", ms)

	r := runCLI(t, h, "", "credentials", "import", ms, "--name", "g", "--replace")
	if r.Code != 2 || !strings.Contains(r.Stderr, "gapi, gmail") || !strings.Contains(r.Stderr, "nothing was imported") ||
		!strings.Contains(r.Stderr, "another --name") || !strings.Contains(r.Stderr, "account edit") {
		t.Fatalf("replace g (google) with a microsoft file: exit %d; want 2 naming gapi and gmail and what to do\n%s", r.Code, r.Stderr)
	}
	if show := mustRun(t, h, "credentials", "show", "g").Stdout; !strings.Contains(show, "google") {
		t.Fatalf("the refused replace changed credentials g:\n%s", show)
	}
	// Nobody else's file: credentials m, used by m365, take it.
	mustRun(t, h, "credentials", "import", ms, "--name", "m", "--replace")
}
