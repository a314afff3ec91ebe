package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/memprobe"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
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

// A list written by an attacker: its attachment column names files
// outside its folder, the data home's master key, a folder, a FIFO; one
// of its names holds a NUL. Every such row is refused at preflight with
// its row number and reason, nothing is sent, nothing hangs, and memory
// stays small.
func TestHostileListRefusedAtPreflight(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "lists")
	home := filepath.Join(dir, "home") // a home under the list's folder: still never attached
	os.MkdirAll(filepath.Join(dir, "files"), 0o700)
	os.MkdirAll(home, 0o700)
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "a", srv, provider.Limits{Connections: 1})
	mustRun(t, home, "credentials", "list") // makes the secrets folder as any sign-in would
	writeTemp(t, filepath.Join(dir, "files"), "ok.pdf", "%PDF-1.4")
	writeTemp(t, root, "outside.txt", "secret")
	os.MkdirAll(filepath.Join(dir, "folder"), 0o700)
	secret := filepath.Join(home, "secrets", "probe.key")
	os.MkdirAll(filepath.Dir(secret), 0o700)
	os.WriteFile(secret, []byte("k"), 0o600)
	rows := []struct{ file, want string }{
		{"files/ok.pdf", ""},
		{"../outside.txt", "goes up out of the attachments folder"},
		{"/etc/passwd", "is an absolute path"},
		{"home/secrets/probe.key", "inside bluemoon's data folder"},
		{"home/bluemoon.db", "inside bluemoon's data folder"},
		{"folder", "is a folder, not a plain file"},
	}
	if runtime.GOOS != "windows" {
		os.Symlink(filepath.Join(root, "outside.txt"), filepath.Join(dir, "link"))
		os.Symlink("/dev/zero", filepath.Join(dir, "zero"))
		rows = append(rows, struct{ file, want string }{"link", "leads outside the attachments folder"},
			struct{ file, want string }{"zero", "leads outside the attachments folder"})
		if mkfifo(filepath.Join(dir, "pipe")) == nil {
			rows = append(rows, struct{ file, want string }{"pipe", "is a named pipe (FIFO), not a plain file"})
		}
	}
	var list strings.Builder
	list.WriteString("email,name,file\n")
	for i, r := range rows {
		fmt.Fprintf(&list, "r%d@example.com,R%d,%s\n", i, i, r.file)
	}
	list.WriteString("nul@example.com,\"Bad\x00Name\",files/ok.pdf\n")
	path := writeTemp(t, dir, "list.csv", list.String())
	body := writeTemp(t, dir, "b.txt", "Dear {{.name}}\n")
	var r result
	peak := memprobe.Peak(func() {
		r = runCLI(t, home, "", "send", "--account", "a", "--recipients", path, "--subject", "S", "--text", body, "--attach-column", "file")
	})
	t.Logf("peak heap %.1f MiB\n%s", memprobe.MB(peak), r.Stderr)
	if r.Code != 2 || srv.Count() != 0 {
		t.Fatalf("exit %d, %d sent\n%s", r.Code, srv.Count(), r.Stderr)
	}
	for i, row := range rows {
		line := fmt.Sprintf("row %d, file: ", i+2)
		if row.want == "" {
			if strings.Contains(r.Stderr, line) {
				t.Errorf("the good row was refused:\n%s", r.Stderr)
			}
			continue
		}
		if !strings.Contains(r.Stderr, line) || !strings.Contains(r.Stderr, row.want) {
			t.Errorf("%s: want %q on %q\n%s", row.file, row.want, line, r.Stderr)
		}
	}
	if !strings.Contains(r.Stderr, fmt.Sprintf("row %d, name: contains a NUL byte", len(rows)+2)) {
		t.Errorf("NUL in a merge field:\n%s", r.Stderr)
	}
	if peak > 100<<20 {
		t.Errorf("peak heap %.1f MiB", memprobe.MB(peak))
	}
	// --attach-dir names the folder instead; the list's folder is then out.
	r = runCLI(t, home, "", "send", "--account", "a", "--recipients", path, "--subject", "S", "--text", body,
		"--attach-column", "file", "--attach-dir", filepath.Join(dir, "files"), "--dry-run", "--skip-invalid")
	if !strings.Contains(r.Stderr, "row 2, file: attachment "+filepath.Join(dir, "files", "files", "ok.pdf")+" not found") {
		t.Errorf("--attach-dir:\n%s", r.Stderr)
	}
	// The user's own --attach still may not send the home's secrets.
	r = runCLI(t, home, "", "send", "--account", "a", "--recipients", path, "--subject", "S", "--text", body, "--attach", secret, "--dry-run")
	if r.Code != 2 || !strings.Contains(r.Stderr, "bluemoon's secrets") {
		t.Errorf("--attach of a secret: exit %d\n%s", r.Code, r.Stderr)
	}
}

// A list with a 200 MB line is refused naming the row, before it is held.
func TestListWithA200MBLineRefused(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "a", srv, provider.Limits{Connections: 1})
	path := filepath.Join(dir, "list.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("email,name\nok@example.com,Ok\nlong@example.com,")
	chunk := []byte(strings.Repeat("a", 1<<20))
	for i := 0; i < 200; i++ {
		f.Write(chunk)
	}
	f.WriteString("\n")
	f.Close()
	body := writeTemp(t, dir, "b.txt", "Dear {{.name}}\n")
	var r result
	peak := memprobe.Peak(func() {
		r = runCLI(t, home, "", "send", "--account", "a", "--recipients", path, "--subject", "S", "--text", body, "--dry-run")
	})
	t.Logf("peak heap %.1f MiB\n%s", memprobe.MB(peak), r.Stderr)
	if r.Code != 2 || !strings.Contains(r.Stderr, "row 3 is over 4 MiB long") || len(r.Stderr) > 2000 {
		t.Fatalf("exit %d\n%.2000s", r.Code, r.Stderr)
	}
	if peak > 100<<20 {
		t.Errorf("peak heap %.1f MiB", memprobe.MB(peak))
	}
}

// Preview and preflight say when an ISO-2022-JP message goes as UTF-8,
// and for which row and character.
func TestUTF8FallbackIsSaid(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "a", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "l.csv", "email,name\na@example.jp,山田\nb@example.jp,髙橋\nc@example.jp,①丸\n")
	body := writeTemp(t, dir, "b.txt", "{{.name}} 様\n")
	r := mustRun(t, home, "send", "--account", "a", "--recipients", list, "--subject", "ご案内", "--text", body, "--charset", "iso-2022-jp", "--dry-run")
	for _, want := range []string{"note: row 3: goes as UTF-8, not ISO-2022-JP: its text body has '髙' (U+9AD9)", "note: row 4: goes as UTF-8"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("preflight lacks %q:\n%s", want, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, "row 2: goes") {
		t.Errorf("row 2 is all JIS X 0208:\n%s", r.Stderr)
	}
	p := mustRun(t, home, "preview", "--account", "a", "--recipients", list, "--subject", "ご案内", "--text", body,
		"--charset", "iso-2022-jp", "--row", "3", "--out", filepath.Join(dir, "r3.eml"))
	if !strings.Contains(p.Stdout, "Note: this message goes as UTF-8") {
		t.Errorf("preview:\n%s", p.Stdout)
	}
}

// A generic OpenID provider set up from its issuer alone: the endpoints
// come from its discovery document, and a sign-in then shows who signed
// in (from the ID token).
func TestGenericProviderFromIssuerShowsWhoSignedIn(t *testing.T) {
	t.Setenv(secrets.KeyringEnv, "off")
	srv, err := oauthsrv.New(oauthsrv.Options{Flavor: provider.Microsoft, Email: "ops@idp.example"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	admin, user := newHome(t), newHome(t)
	out := filepath.Join(t.TempDir(), "idp.bmcred")
	issuer := srv.URL() + "/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
	mustRun(t, admin, "credentials", "create", "--provider", "generic", "--issuer", issuer, "--client-id", srv.ClientID(), "--out", out)
	mustRun(t, user, "credentials", "import", out, "--name", "idp", "--accept-custom-endpoints")
	show := mustRun(t, user, "credentials", "show", "idp").Stdout
	if !strings.Contains(show, issuer[:len(srv.URL())]+"/9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/token") || !strings.Contains(show, "offline_access") {
		t.Fatalf("show:\n%s", show)
	}
	mustRun(t, user, "account", "add", "work", "--from", "ops@idp.example", "--credentials", "idp", "--smtp", "127.0.0.1:587", "--security", "starttls")
	run := startCLI(t, user, "login", "work", "--no-browser", "--timeout", "30s")
	if _, err := (&oauthsrv.Browser{}).SignIn(context.Background(), run.firstLine(t)); err != nil {
		t.Fatal(err)
	}
	if code := run.wait(t); code != 0 || !strings.Contains(run.stderr.String(), "Signed in account work as ops@idp.example") {
		t.Fatalf("exit %d\n%s", code, run.stderr)
	}
	st := mustRun(t, user, "auth", "status", "work").Stdout
	if !strings.Contains(st, "ops@idp.example") {
		t.Errorf("auth status:\n%s", st)
	}
	// An issuer whose document names another issuer is refused.
	r := runCLI(t, admin, "", "credentials", "create", "--provider", "generic", "--issuer", srv.URL()+"/contoso.example/v2.0",
		"--client-id", "x", "--out", filepath.Join(t.TempDir(), "x.bmcred"))
	if r.Code != 2 || !strings.Contains(r.Stderr, "names the issuer") {
		t.Errorf("mismatched issuer: exit %d\n%s", r.Code, r.Stderr)
	}
}

// A file a command writes where the user says (preview --out,
// credentials create --out) never replaces one of the data home's
// secrets: an --out that named the database (or the admin signing key, or
// a token) replaced it with the message, and every account, delivery and
// sign-in of the home was gone. A folder given as --out is called one.
func TestOutputFilesNeverReplaceTheDataHome(t *testing.T) {
	home, dir := newHome(t), t.TempDir()
	list := writeTemp(t, dir, "l.csv", "email,name\na@example.jp,山田\n")
	body := writeTemp(t, dir, "b.txt", "{{.name}} 様\n")
	mustRun(t, home, "suppress", "add", "kept@example.jp") // the database holds something
	preview := func(out string) result {
		return runCLI(t, home, "", "preview", "--from", "me@example.jp", "--recipients", list, "--subject", "S", "--text", body, "--out", out)
	}
	db := filepath.Join(home, "bluemoon.db")
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{db, db + "-wal", filepath.Join(home, "admin-signing.key"), filepath.Join(home, "secrets", "x.eml")} {
		r := preview(out)
		if r.Code != 2 || !strings.Contains(r.Stderr, "--out "+out) || !strings.Contains(r.Stderr, "data folder") {
			t.Errorf("preview --out %s: exit %d\n%s%s", out, r.Code, r.Stdout, r.Stderr)
		}
	}
	// Through a symbolic link to the home too.
	if runtime.GOOS != "windows" {
		link := filepath.Join(dir, "link")
		if err := os.Symlink(home, link); err != nil {
			t.Fatal(err)
		}
		if r := preview(filepath.Join(link, "bluemoon.db")); r.Code != 2 {
			t.Errorf("preview --out through a link to the home: exit %d\n%s", r.Code, r.Stderr)
		}
	}
	after, err := os.ReadFile(db)
	if err != nil || len(after) != len(before) {
		t.Fatalf("the database changed: %d bytes, was %d (%v)", len(after), len(before), err)
	}
	if l := mustRun(t, home, "suppress", "list").Stdout; !strings.Contains(l, "kept@example.jp") {
		t.Fatalf("suppression list after the refusals:\n%s", l)
	}
	if _, err := os.Stat(filepath.Join(home, "admin-signing.key")); err == nil {
		t.Error("an admin signing key was written into the home")
	}
	r := runCLI(t, home, "", "credentials", "create", "--provider", "microsoft", "--client-id", "cid", "--force", "--out", db)
	if r.Code != 2 || !strings.Contains(r.Stderr, "data folder") {
		t.Errorf("credentials create --out the database: exit %d\n%s", r.Code, r.Stderr)
	}
	if r := preview(dir); r.Code != 2 || !strings.Contains(r.Stderr, "is a folder") {
		t.Errorf("preview --out a folder: exit %d\n%s", r.Code, r.Stderr)
	}
	// Anywhere else is fine, and a file there is replaced.
	out := filepath.Join(dir, "row2.eml")
	for range 2 {
		if r := preview(out); r.Code != 0 {
			t.Fatalf("preview --out %s: exit %d\n%s", out, r.Code, r.Stderr)
		}
	}
}

// A row whose message cannot be put together (here: the file its
// attachment column names has a line break in its name, which would go
// into a header) is that row's problem in preview as in send: named with
// its row, exit 2 — not a bare error with exit 1.
func TestPreviewNamesTheRowWhoseMessageCannotBeBuilt(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no line breaks in Windows file names")
	}
	home, dir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a\nBcc: x@example.com.pdf"), []byte("%PDF-1.4"), 0o600); err != nil {
		t.Fatal(err)
	}
	list := writeTemp(t, dir, "l.csv", "email,name,file\na@example.jp,A,\"a\nBcc: x@example.com.pdf\"\n")
	body := writeTemp(t, dir, "b.txt", "{{.name}}\n")
	args := []string{"--recipients", list, "--subject", "S", "--text", body, "--attach-column", "file"}
	pf := runCLI(t, home, "", append([]string{"preview", "--from", "me@example.jp", "--out", filepath.Join(dir, "r.eml")}, args...)...)
	if pf.Code != 2 || !strings.HasPrefix(pf.Stderr, "bluemoon: row 2: attachment ") || !strings.Contains(pf.Stderr, "line break") {
		t.Errorf("preview: exit %d\n%s", pf.Code, pf.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "r.eml")); err == nil {
		t.Error("the message was written")
	}
	// A wrong --from is the flag's mistake, not the row's.
	for _, from := range []string{"bad", "Me <me@example.jp>"} {
		r := runCLI(t, home, "", "preview", "--from", from, "--recipients", list, "--subject", "S", "--text", body, "--out", filepath.Join(dir, "r.eml"))
		if r.Code != 2 || !strings.Contains(r.Stderr, "--from "+strconv.Quote(from)) || strings.Contains(r.Stderr, "row 2") {
			t.Errorf("preview --from %q: exit %d\n%s", from, r.Code, r.Stderr)
		}
	}
}

// `preview --out -` writes the message to standard output, as "-" means
// to Unix tools, and no file named "-"; what was written is said on
// stderr, so that stdout is the message alone.
func TestPreviewOutDashWritesToStandardOutput(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	list := writeTemp(t, dir, "l.csv", "email,name\na@example.jp,Ann\n")
	body := writeTemp(t, dir, "b.txt", "Hello {{.name}}\n")
	t.Chdir(dir)
	r := runCLI(t, home, "", "preview", "--from", "me@example.jp", "--recipients", list, "--subject", "S", "--text", body, "--out", "-")
	if r.Code != 0 || !strings.Contains(r.Stdout, "To: a@example.jp\r\n") || !strings.Contains(r.Stdout, "Hello Ann") ||
		strings.Contains(r.Stdout, "Wrote") || !strings.Contains(r.Stderr, "to standard output") {
		t.Fatalf("preview --out -: exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "-")); !os.IsNotExist(err) {
		t.Fatalf("a file named - was written: %v", err)
	}
}
