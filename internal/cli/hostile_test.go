package cli

import (
	"encoding/csv"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// A report opened in a spreadsheet runs nothing: addresses and server
// replies that start like a formula come out of 'report --csv' as text,
// while --json keeps them exact.
func TestReportCSVIsSafeInASpreadsheet(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	const evilReply = `=HYPERLINK("http://evil.example/","open me")`
	srv := startSMTP(t, func(s *smtptest.Server) {
		s.RcptReply = func(rcpt string) error {
			if strings.HasPrefix(rcpt, "-") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: evilReply}
			}
			return nil
		}
	})
	addTestAccount(t, home, "a", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "l.csv", "email\n=1+2@example.com\n@SUM@example.com\n-x@example.com\nplain@example.com\n")
	body := writeTemp(t, dir, "b.txt", "Hi\n")
	if r := runCLI(t, home, "", "send", "--account", "a", "--recipients", list, "--subject", "S", "--text", body, "--skip-invalid"); r.Code != 3 {
		t.Fatalf("send: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	out := mustRun(t, home, "deliveries", "report", "1", "--csv").Stdout
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	cells := map[string]string{}
	for _, rec := range recs[1:] {
		cells[rec[1]] = rec[4]
		for _, c := range rec {
			if c != "" && strings.ContainsAny(c[:1], "=+-@\t\r") {
				t.Errorf("cell %q would run as a formula\n%s", c, out)
			}
		}
	}
	for _, want := range []string{"'=1+2@example.com", "'@SUM@example.com", "'-x@example.com", "plain@example.com"} {
		if _, ok := cells[want]; !ok {
			t.Errorf("no row for %s in\n%s", want, out)
		}
	}
	if r := cells["'-x@example.com"]; !strings.Contains(r, "HYPERLINK") || strings.HasPrefix(r, "=") {
		t.Errorf("reply cell %q", r)
	}

	var rows []struct{ Email, Reply string }
	if err := json.Unmarshal([]byte(mustRun(t, home, "deliveries", "report", "1", "--json").Stdout), &rows); err != nil {
		t.Fatal(err)
	}
	exact := map[string]bool{}
	for _, r := range rows {
		exact[r.Email] = true
	}
	if !exact["=1+2@example.com"] || !exact["-x@example.com"] {
		t.Errorf("JSON changed the addresses: %+v", rows)
	}
}

// The rough edges of making and importing a credential file: --tenant in
// capitals, a secret given for a Microsoft desktop app, a mistyped --trust
// and an http endpoint on another computer.
func TestCredentialFileRoughEdges(t *testing.T) {
	admin, user := newHome(t), newHome(t)
	out := filepath.Join(t.TempDir(), "m.bmcred")
	r := mustRun(t, admin, "credentials", "create", "--provider", "microsoft", "--tenant", "COMMON",
		"--client-id", "9d6f1c3e-0000-4000-8000-000000000001", "--client-secret", "oops", "--out", out)
	if !strings.Contains(r.Stdout, "tenant common") || !strings.Contains(r.Stderr, "desktop apps (public clients") ||
		strings.Contains(r.Stderr, "not a microsoft default") {
		t.Errorf("create --tenant COMMON with a secret:\n%s\n%s", r.Stdout, r.Stderr)
	}
	bad := runCLI(t, user, "", "credentials", "import", out, "--trust", "SHA256:abc")
	if bad.Code != 2 || !strings.Contains(bad.Stderr, `--trust "SHA256:abc" is malformed`) || strings.Contains(bad.Stderr, "not by the trusted key") {
		t.Errorf("malformed --trust: exit %d\n%s", bad.Code, bad.Stderr)
	}
	assertNothingImported(t, user)

	r = runCLI(t, admin, "", "credentials", "create", "--provider", "generic", "--client-id", "x",
		"--auth-endpoint", "http://idp.example.org/auth", "--token-endpoint", "https://idp.example.org/token",
		"--auth-scope", "openid", "--token-scope", "openid", "--out", filepath.Join(t.TempDir(), "g.bmcred"))
	if r.Code != 2 || !strings.Contains(r.Stderr, "auth_endpoint") || !strings.Contains(r.Stderr, "unencrypted") {
		t.Errorf("http endpoint off loopback: exit %d\n%s", r.Code, r.Stderr)
	}
}
