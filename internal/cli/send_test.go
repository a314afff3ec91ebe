package cli

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/gofrs/flock"
	"golang.org/x/text/encoding/japanese"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// addTestAccount stores an account sending to srv without auth.
func addTestAccount(t *testing.T, home, name string, srv *smtptest.Server, limits provider.Limits) {
	t.Helper()
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	host, port, _ := net.SplitHostPort(srv.Addr)
	p, _ := strconv.Atoi(port)
	err = (&account.Store{DB: db.DB}).Put(context.Background(), &account.Account{
		Name: name, From: "news@example.com", FromName: "Example News", SMTPHost: host, SMTPPort: p,
		Security: account.SecurityNone, Auth: account.AuthNone, Limits: limits,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func startSMTP(t *testing.T, configure func(*smtptest.Server)) *smtptest.Server {
	t.Helper()
	s, err := smtptest.Start(configure)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSendDryRunPreviewReportSuppress(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 2, PerConnection: 10})
	sj, _ := japanese.ShiftJIS.NewEncoder().String("email,name\r\nann@example.com,山田花子\r\nbob@example.com,Bob\r\nnot-an-address,Carl\r\ndan@example.com,Dan\r\n")
	list := writeTemp(t, dir, "list.csv", sj)
	body := writeTemp(t, dir, "body.txt", "{{.name}} 様\nお知らせです。\n")
	common := []string{"send", "--account", "news", "--recipients", list, "--subject", "{{.name}}様へ", "--text", body, "--charset", "iso-2022-jp"}

	// Bad row: reported with its number, nothing sent.
	r := runCLI(t, home, "", common...)
	if r.Code != 2 || !strings.Contains(r.Stderr, "row 4, email:") || srv.Count() != 0 {
		t.Fatalf("bad row: exit %d\n%s", r.Code, r.Stderr)
	}
	// Dry run with --skip-invalid: checks, signs in, sends nothing.
	r = mustRun(t, home, append(common, "--skip-invalid", "--dry-run")...)
	if !strings.Contains(r.Stdout, "Dry run: nothing was sent. 3 recipient(s)") || !strings.Contains(r.Stderr, "signed in") || srv.Count() != 0 {
		t.Fatalf("dry run:\n%s\n%s", r.Stdout, r.Stderr)
	}
	// Preview row 2 writes the exact message.
	eml := filepath.Join(dir, "ann.eml")
	mustRun(t, home, "preview", "--account", "news", "--recipients", list, "--subject", "{{.name}}様へ", "--text", body, "--charset", "iso-2022-jp", "--row", "2", "--out", eml)
	raw, _ := os.ReadFile(eml)
	if !strings.Contains(string(raw), "To: ann@example.com") || !strings.Contains(string(raw), "=?ISO-2022-JP?B?") {
		t.Fatalf("preview:\n%s", raw)
	}
	mustRun(t, home, "suppress", "add", "Dan@example.com")
	if r := mustRun(t, home, "suppress", "list"); !strings.Contains(r.Stdout, "Dan@example.com") {
		t.Fatalf("suppress list: %s", r.Stdout)
	}
	r = runCLI(t, home, "", append(common, "--skip-invalid", "--name", "autumn")...)
	if r.Code != 0 || srv.Count() != 2 {
		t.Fatalf("send: exit %d, server got %d\n%s\n%s", r.Code, srv.Count(), r.Stdout, r.Stderr)
	}
	rep := mustRun(t, home, "deliveries", "report", "1", "--csv")
	for _, want := range []string{"2,ann@example.com,sent,1,250", "3,bob@example.com,sent", "4,not-an-address,skipped", "5,dan@example.com,suppressed"} {
		if !strings.Contains(rep.Stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, rep.Stdout)
		}
	}
	if l := mustRun(t, home, "deliveries", "list"); !strings.Contains(l.Stdout, "autumn") || !strings.Contains(l.Stdout, "done") {
		t.Fatalf("list:\n%s", l.Stdout)
	}
	if r := runCLI(t, home, "", "deliveries", "resume", "1"); r.Code != 2 || !strings.Contains(r.Stderr, "is done") {
		t.Fatalf("resume of a finished delivery: %d %s", r.Code, r.Stderr)
	}
	// Preview of the message the server got equals what preview wrote, bar Date/Message-ID.
	got := srv.Messages()[0].Data
	if strip(string(got)) == "" || !strings.Contains(string(got), "X-Bluemoon-Delivery: 1") {
		t.Fatalf("received:\n%s", got)
	}
}

// strip drops the lines that differ between two renderings of a message.
func strip(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\r\n") {
		if strings.HasPrefix(l, "Date:") || strings.HasPrefix(l, "Message-ID:") || strings.HasPrefix(l, "X-Bluemoon") {
			continue
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func TestSendFailuresExitThree(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, func(s *smtptest.Server) {
		s.RcptReply = func(rcpt string) error {
			if strings.HasPrefix(rcpt, "gone") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
			}
			return nil
		}
	})
	addTestAccount(t, home, "a", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "l.tsv", "email\tname\nok@example.com\tOk\ngone@example.com\tGone\n")
	body := writeTemp(t, dir, "b.html", "<p>Hi {{.name}}</p>")
	r := runCLI(t, home, "", "send", "--account", "a", "--recipients", list, "--subject", "Hi", "--html", body)
	if r.Code != 3 || !strings.Contains(r.Stdout, "1 sent, 1 failed") {
		t.Fatalf("exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
}

func TestSuppressImportListRemove(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	plain := writeTemp(t, dir, "bounces.txt", "# bounced in October\na@example.com\nnot an address\nB@example.com\n")
	r := mustRun(t, home, "suppress", "import", plain, "--reason", "bounced")
	if !strings.Contains(r.Stdout, "Suppressed 2 new") || !strings.Contains(r.Stderr, "line 3") {
		t.Fatalf("import plain:\n%s\n%s", r.Stdout, r.Stderr)
	}
	csvFile := writeTemp(t, dir, "unsub.csv", "name,mail\nBee,b@example.com\nCee,c@example.com\n")
	r = mustRun(t, home, "suppress", "import", csvFile, "--email-column", "mail")
	if !strings.Contains(r.Stdout, "Suppressed 1 new address(es); 1 already were") {
		t.Fatalf("import csv:\n%s\n%s", r.Stdout, r.Stderr)
	}
	r = mustRun(t, home, "suppress", "list", "--json")
	if !strings.Contains(r.Stdout, `"addr": "a@example.com"`) || !strings.Contains(r.Stdout, `"reason": "bounced"`) || !strings.Contains(r.Stdout, "c@example.com") {
		t.Fatalf("list:\n%s", r.Stdout)
	}
	mustRun(t, home, "suppress", "remove", "A@EXAMPLE.COM")
	if r := runCLI(t, home, "", "suppress", "remove", "a@example.com"); r.Code != 2 {
		t.Fatalf("removing an address not on the list: exit %d", r.Code)
	}
	if r := mustRun(t, home, "suppress", "list"); strings.Contains(r.Stdout, "a@example.com") {
		t.Fatalf("still listed:\n%s", r.Stdout)
	}
}

// An address too long for RFC 5321 is not put on the do-not-mail list:
// 'suppress' refuses it naming it and why, 'suppress import' names its line.
func TestSuppressRefusesAnAddressTooLongToBeOne(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	long := strings.Repeat("a", 65) + "@example.com"
	r := runCLI(t, home, "", "suppress", "add", long)
	if r.Code != 2 || !strings.Contains(r.Stderr, long) || !strings.Contains(r.Stderr, "mail servers refuse more than 64") {
		t.Errorf("suppress of a 65-character local part: exit %d, want 2 naming it and why\n%s", r.Code, r.Stderr)
	}
	plain := writeTemp(t, dir, "bounces.txt", "a@example.com\n"+long+"\nbbbbbbbbb@"+strings.Repeat("d", 60)+"."+strings.Repeat("e", 60)+"."+strings.Repeat("f", 60)+"."+strings.Repeat("g", 60)+".jp\n")
	r = mustRun(t, home, "suppress", "import", plain)
	if !strings.Contains(r.Stdout, "Suppressed 1 new") || !strings.Contains(r.Stderr, "line 2: \""+long+"\": the part before the @ is 65 characters") ||
		!strings.Contains(r.Stderr, "line 3: ") || !strings.Contains(r.Stderr, "is 256 characters; mail servers refuse an address of more than 254") {
		t.Errorf("import:\n%s\n%s", r.Stdout, r.Stderr)
	}
	// First in a file, it is still read as an address, not a column name.
	first := writeTemp(t, dir, "first.txt", long+"\nc@example.com\n")
	r = mustRun(t, home, "suppress", "import", first)
	if !strings.Contains(r.Stdout, "Suppressed 1 new") || !strings.Contains(r.Stderr, "line 1: ") {
		t.Errorf("import, a too-long address first:\n%s\n%s", r.Stdout, r.Stderr)
	}
	if r := mustRun(t, home, "suppress", "list"); strings.Contains(r.Stdout, long) || strings.Count(r.Stdout, "@") != 2 {
		t.Errorf("list:\n%s", r.Stdout)
	}
}

func TestPauseAndCancelAStoppedDelivery(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	// 1 per day: the first message goes, then the delivery pauses until tomorrow.
	addTestAccount(t, home, "a", srv, provider.Limits{Connections: 1, PerDay: 1})
	list := writeTemp(t, dir, "l.csv", "email\nx@example.com\ny@example.com\nz@example.com\n")
	body := writeTemp(t, dir, "b.txt", "hello")
	r := runCLI(t, home, "", "send", "--account", "a", "--recipients", list, "--subject", "s", "--text", body)
	if r.Code != 5 || !strings.Contains(r.Stdout, "1 messages per 24 hours") || srv.Count() != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if s := mustRun(t, home, "deliveries", "show", "1"); !strings.Contains(s.Stdout, "Can go on after") || !strings.Contains(s.Stdout, "paused") {
		t.Fatalf("show:\n%s", s.Stdout)
	}
	mustRun(t, home, "deliveries", "cancel", "1")
	rep := mustRun(t, home, "deliveries", "report", "1", "--json")
	if strings.Count(rep.Stdout, `"state": "cancelled"`)+strings.Count(rep.Stdout, `"state":"cancelled"`) != 2 || !strings.Contains(rep.Stdout, `"sent"`) {
		t.Fatalf("report:\n%s", rep.Stdout)
	}
	if r := runCLI(t, home, "", "deliveries", "resume", "1"); r.Code != 2 {
		t.Fatalf("resume of a cancelled delivery: exit %d", r.Code)
	}
}

func TestSendRefusedSignInSendsNothing(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, func(s *smtptest.Server) { s.User, s.Password = "news@example.com", "right" })
	addTestAccount(t, home, "a", srv, provider.Limits{Connections: 1})
	// Make it a password account with the wrong password.
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	st := &account.Store{DB: db.DB}
	acct, _ := st.Get(context.Background(), "a")
	acct.Auth = account.AuthPlain
	if err := st.Put(context.Background(), acct); err != nil {
		t.Fatal(err)
	}
	db.Close()
	list := writeTemp(t, dir, "l.csv", "email\nx@example.com\n")
	body := writeTemp(t, dir, "b.txt", "hello")
	args := []string{"send", "--account", "a", "--recipients", list, "--subject", "s", "--text", body}
	// No password stored: a usage error naming what to do, nothing sent.
	if r := runCLI(t, home, "", args...); r.Code != 2 || !strings.Contains(r.Stderr, "password") {
		t.Fatalf("no password: exit %d\n%s", r.Code, r.Stderr)
	}
	pw := writeTemp(t, dir, "pw", "wrong")
	mustRun(t, home, "account", "edit", "a", "--password-file", pw)
	r := runCLI(t, home, "", args...)
	if r.Code != 4 || !strings.Contains(r.Stderr, "cannot sign in") || strings.Contains(r.Stderr, "wrong") || srv.Count() != 0 {
		t.Fatalf("wrong password: exit %d\n%s", r.Code, r.Stderr)
	}
	if l := mustRun(t, home, "deliveries", "list"); strings.Contains(l.Stdout, "l.csv") {
		t.Fatalf("a delivery was stored:\n%s", l.Stdout)
	}
}

func TestOneDeliveryPerAccountAtATime(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "a", srv, provider.Limits{Connections: 1})
	os.MkdirAll(filepath.Join(home, "locks"), 0o700)
	held := flock.New(core.AccountLockFile(home, "a")) // another process sending on the account
	if ok, err := held.TryLock(); err != nil || !ok {
		t.Fatal(err)
	}
	list := writeTemp(t, dir, "l.csv", "email\nx@example.com\n")
	body := writeTemp(t, dir, "b.txt", "hello")
	r := runCLI(t, home, "", "send", "--account", "a", "--recipients", list, "--subject", "s", "--text", body)
	if r.Code != 5 || !strings.Contains(r.Stderr, "deliveries resume 1") || srv.Count() != 0 {
		t.Fatalf("busy account: exit %d\n%s", r.Code, r.Stderr)
	}
	held.Unlock()
	if r := runCLI(t, home, "", "deliveries", "resume", "1"); r.Code != 0 || srv.Count() != 1 {
		t.Fatalf("resume: exit %d, server %d\n%s", r.Code, srv.Count(), r.Stderr)
	}
}

// 535 5.7.139 (SMTP AUTH disabled for the tenant) is a setting an admin
// must change: send says so and exits 2, not 4 (a sign-in would not help).
func TestSendWithSMTPAuthDisabledIsASettingsError(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv, err := smtpsrv.Start(smtpsrv.Options{Flavor: smtpsrv.Microsoft, Security: smtpsrv.NoTLS,
		Passwords: map[string]string{"news@example.com": "pw"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetSMTPAuthDisabled(true)
	pw := writeTemp(t, dir, "pw", "pw")
	mustRun(t, home, "account", "add", "m", "--from", "news@example.com", "--smtp", srv.Addr(),
		"--security", "none", "--auth", "plain", "--password-file", pw)
	list := writeTemp(t, dir, "l.csv", "email\nx@example.com\n")
	body := writeTemp(t, dir, "b.txt", "hello")
	r := runCLI(t, home, "", "send", "--account", "m", "--recipients", list, "--subject", "s", "--text", body)
	if r.Code != 2 || !strings.Contains(r.Stderr, "5.7.139") || !strings.Contains(r.Stderr, "authenticated SMTP") || srv.Accepted() != 0 {
		t.Fatalf("exit %d (want 2), accepted %d\n%s", r.Code, srv.Accepted(), r.Stderr)
	}
}

// A list with a header row and no rows under it (an export that came out
// empty) is refused as bad input: no delivery is made, nothing is sent,
// and the message names the file — by send, its dry run, and a saved
// delivery's run alike.
func TestSendRefusesListWithoutRecipients(t *testing.T) {
	for name, content := range map[string]string{"header only": "email,name\r\n", "blank lines": "email,name\n\n\n"} {
		t.Run(name, func(t *testing.T) {
			home, dir := t.TempDir(), t.TempDir()
			srv := startSMTP(t, nil)
			addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
			list := writeTemp(t, dir, "export.csv", content)
			body := writeTemp(t, dir, "body.txt", "Hello {{.name}}\n")
			common := []string{"send", "--account", "news", "--recipients", list, "--subject", "News", "--text", body}
			for _, extra := range [][]string{nil, {"--dry-run"}} {
				r := runCLI(t, home, "", append(common, extra...)...)
				if r.Code != 2 || !strings.Contains(r.Stderr, list) || !strings.Contains(r.Stderr, "has no recipients") ||
					!strings.Contains(r.Stderr, "nothing was sent") {
					t.Fatalf("send %v: exit %d\n%s\n%s", extra, r.Code, r.Stdout, r.Stderr)
				}
			}
			if l := mustRun(t, home, "deliveries", "list", "--json"); strings.Contains(l.Stdout, "export.csv") {
				t.Fatalf("a delivery was made of an empty list:\n%s", l.Stdout)
			}
			mustRun(t, home, "deliveries", "save", "nightly", "--account", "news", "--recipients", list, "--subject", "News", "--text", body)
			if r := runCLI(t, home, "", "run", "nightly", "--unattended"); r.Code != 2 || !strings.Contains(r.Stderr, "has no recipients") {
				t.Fatalf("run: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
			}
			if l := mustRun(t, home, "deliveries", "list", "--json"); strings.Contains(l.Stdout, "nightly") {
				t.Fatalf("a delivery was made of an empty list by run:\n%s", l.Stdout)
			}
			if srv.Count() != 0 {
				t.Fatalf("the server got %d message(s)", srv.Count())
			}
		})
	}
}

// --skip-invalid leaves the rows with problems out; when that is every
// row, nothing would go, and the run would end "done" with exit 0 — a
// broken export looking like a delivery that went well. It is refused
// instead (exit 2, the problems listed, no delivery made). A list whose
// every address is on the do-not-mail list is no mistake: done, exit 0.
func TestSkipInvalidWithEveryRowInvalidIsRefused(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	body := writeTemp(t, dir, "body.txt", "Hello {{.name}}\n")
	bad := writeTemp(t, dir, "bad.csv", "email,name\nnot-an-address,A\nalso@@bad,B\n")
	for _, extra := range [][]string{nil, {"--dry-run"}} { // the dry run: what a scheduled preflight does
		r := runCLI(t, home, "", append([]string{"send", "--account", "news", "--recipients", bad, "--subject", "News", "--text", body, "--skip-invalid"}, extra...)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, "every row of the list has a problem (2 row(s))") || !strings.Contains(r.Stderr, "nothing was sent") {
			t.Fatalf("every row invalid, --skip-invalid %v: exit %d (want 2)\n%s\n%s", extra, r.Code, r.Stdout, r.Stderr)
		}
	}
	if l := mustRun(t, home, "deliveries", "list", "--json"); strings.Contains(l.Stdout, "bad.csv") {
		t.Fatalf("a delivery was made of a list with no row to send:\n%s", l.Stdout)
	}

	good := writeTemp(t, dir, "optout.csv", "email,name\nquiet@example.com,Q\n")
	mustRun(t, home, "suppress", "add", "quiet@example.com")
	if r := runCLI(t, home, "", "send", "--account", "news", "--recipients", good, "--subject", "News", "--text", body, "--skip-invalid"); r.Code != 0 {
		t.Fatalf("every address on the do-not-mail list: exit %d (want 0)\n%s", r.Code, r.Stderr)
	}
	if srv.Count() != 0 {
		t.Fatalf("the server got %d message(s)", srv.Count())
	}
}

// A column printed as {{index . "name"}} that is empty in a row is that
// row's problem, as it is for {{.name}}: named with its row, nothing sent.
func TestEmptyIndexedFieldIsARowProblem(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "l.csv", "email,会社 名\na@example.jp,青月商事\nb@example.jp,\n")
	body := writeTemp(t, dir, "b.txt", "{{index . \"会社 名\"}} 御中\n")
	r := runCLI(t, home, "", "send", "--account", "news", "--recipients", list, "--subject", "ご案内", "--text", body)
	if r.Code != 2 || !strings.Contains(r.Stderr, "row 3, 会社 名: is empty but the template prints it") || srv.Count() != 0 {
		t.Fatalf("send: exit %d, server got %d\n%s%s", r.Code, srv.Count(), r.Stdout, r.Stderr)
	}
}
