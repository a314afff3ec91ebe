package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

type shownAccount struct {
	account.Account
	PasswordSet bool `json:"password_set"`
}

func showAccount(t *testing.T, h, name string) shownAccount {
	t.Helper()
	var a shownAccount
	if err := json.Unmarshal([]byte(mustRun(t, h, "account", "show", name, "--json").Stdout), &a); err != nil {
		t.Fatal(err)
	}
	return a
}

// withCredentials imports a google and a microsoft file into a new home.
func withCredentials(t *testing.T) string {
	t.Helper()
	admin, user := newHome(t), newHome(t)
	mustRun(t, user, "credentials", "import", makeGoogleFile(t, admin), "--name", "g")
	ms := filepath.Join(t.TempDir(), "m.bmcred")
	mustRun(t, admin, "credentials", "create", "--provider", "microsoft", "--client-id", "cid", "--out", ms)
	mustRun(t, user, "credentials", "import", ms, "--name", "m")
	return user
}

func TestAccountPresetsFromCredentials(t *testing.T) {
	h := withCredentials(t)
	mustRun(t, h, "account", "add", "gmail", "--from", "news@example.com", "--credentials", "g")
	mustRun(t, h, "account", "add", "m365", "--from", "info@contoso.com", "--from-name", "Contoso Info", "--credentials", "m")
	g, m := showAccount(t, h, "gmail"), showAccount(t, h, "m365")
	if g.SMTPAddr() != "smtp.gmail.com:465" || g.Security != "tls" || g.Auth != "xoauth2" || g.Limits.PerDay != 2000 {
		t.Errorf("gmail account %+v", g.Account)
	}
	if m.SMTPAddr() != "smtp.office365.com:587" || m.Security != "starttls" || m.Auth != "xoauth2" ||
		m.Limits.PerMinute != 30 || m.Limits.Connections != 3 || m.FromName != "Contoso Info" || !m.ConfirmReauth {
		t.Errorf("m365 account %+v", m.Account)
	}
	// Given values win over presets.
	mustRun(t, h, "account", "add", "g587", "--from", "a@example.com", "--credentials", "g",
		"--smtp", "smtp.gmail.com:587", "--per-minute", "10", "--confirm-reauth", "false")
	g587 := showAccount(t, h, "g587")
	if g587.SMTPAddr() != "smtp.gmail.com:587" || g587.Security != "starttls" || g587.Limits.PerMinute != 10 ||
		g587.Limits.PerDay != 2000 || g587.ConfirmReauth {
		t.Errorf("g587 %+v", g587.Account)
	}
	list := mustRun(t, h, "account", "list").Stdout
	for _, n := range []string{"gmail", "m365", "g587", "smtp.office365.com:587"} {
		if !strings.Contains(list, n) {
			t.Errorf("list lacks %s:\n%s", n, list)
		}
	}
	if r := runCLI(t, h, "", "credentials", "remove", "g"); r.Code != 2 || !strings.Contains(r.Stderr, "gmail") {
		t.Errorf("removing used credentials: %d %q", r.Code, r.Stderr)
	}
}

func TestAccountPasswordIsStoredNeverShown(t *testing.T) {
	h := newHome(t)
	const pw = "p4ss-w0rd-do-not-print"
	pwFile := writeFile(t, "pw", pw+"\n")
	r := mustRun(t, h, "account", "add", "relay", "--from", "a@example.org", "--smtp", "mail.example.org:465",
		"--auth", "login", "--username", "bob", "--password-file", pwFile)
	out := r.Stdout + r.Stderr
	for _, args := range [][]string{{"account", "show", "relay"}, {"account", "show", "relay", "--json"}, {"account", "list"}, {"account", "list", "--json"}} {
		r := mustRun(t, h, args...)
		out += r.Stdout + r.Stderr
	}
	if strings.Contains(out, pw) {
		t.Fatalf("password printed:\n%s", out)
	}
	a := showAccount(t, h, "relay")
	if !a.PasswordSet || a.Security != "tls" || a.Auth != "login" || a.LoginName() != "bob" {
		t.Fatalf("relay %+v", a)
	}
	if show := mustRun(t, h, "account", "show", "relay").Stdout; !regexpMatch(`password:\s+set`, show) {
		t.Fatalf("show:\n%s", show)
	}
	sec, err := secrets.Open(h)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := core.Password(sec, "relay"); err != nil || got != pw {
		t.Fatalf("Password = %q, %v", got, err)
	}
	// Switching to no auth drops the stored password.
	mustRun(t, h, "account", "edit", "relay", "--auth", "none")
	if _, err := core.Password(sec, "relay"); !errors.Is(err, core.ErrNoPassword) {
		t.Fatalf("password kept after --auth none: %v", err)
	}
}

func TestAccountEditChangesOnlyTheFlagsGiven(t *testing.T) {
	h := withCredentials(t)
	mustRun(t, h, "account", "add", "news", "--from", "news@example.com", "--credentials", "m", "--per-day", "500")
	mustRun(t, h, "account", "edit", "news", "--from-name", "News Desk", "--connections", "1", "--confirm-reauth=false")
	a := showAccount(t, h, "news")
	if a.FromName != "News Desk" || a.Limits.Connections != 1 || a.Limits.PerDay != 500 || a.ConfirmReauth ||
		a.SMTPAddr() != "smtp.office365.com:587" || a.Credentials != "m" || a.From != "news@example.com" {
		t.Fatalf("after edit %+v", a.Account)
	}
	if r := runCLI(t, h, "", "account", "edit", "nobody", "--from-name", "x"); r.Code != 2 || !strings.Contains(r.Stderr, "no such account") {
		t.Fatalf("edit missing: %d %q", r.Code, r.Stderr)
	}
}

func TestAccountRemove(t *testing.T) {
	h := newHome(t)
	mustRun(t, h, "account", "add", "relay", "--from", "a@example.org", "--smtp", "localhost:2525", "--security", "none",
		"--auth", "plain", "--password-file", writeFile(t, "pw", "secret"))
	sec, _ := secrets.Open(h)
	sec.Put(core.TokenSecret("relay"), []byte("tokens"))
	mustRun(t, h, "account", "remove", "relay")
	if out := mustRun(t, h, "account", "list", "--json").Stdout; strings.TrimSpace(out) != "[]" {
		t.Fatalf("list after remove: %s", out)
	}
	for _, n := range []string{core.PasswordSecret("relay"), core.TokenSecret("relay")} {
		if _, err := sec.Get(n); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("%s left behind: %v", n, err)
		}
	}
	if r := runCLI(t, h, "", "account", "remove", "relay"); r.Code != 2 {
		t.Fatalf("second remove: exit %d", r.Code)
	}
}

func TestAccountFlagErrorsNameTheFlag(t *testing.T) {
	h := withCredentials(t)
	pw := writeFile(t, "pw", "x")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--smtp", "h:25", "--auth", "none"}, "--from"},
		{[]string{"--from", "not-an-address", "--smtp", "h:25", "--auth", "none"}, "--from"},
		{[]string{"--from", "a@b.c", "--auth", "none"}, "--smtp"},
		{[]string{"--from", "a@b.c", "--smtp", "nohost", "--auth", "none"}, "--smtp"},
		{[]string{"--from", "a@b.c", "--smtp", "h:99999", "--auth", "none"}, "--smtp"},
		{[]string{"--from", "a@b.c", "--smtp", "h:25"}, "--auth"},
		{[]string{"--from", "a@b.c", "--smtp", "h:25", "--auth", "cram-md5"}, "--auth"},
		{[]string{"--from", "a@b.c", "--smtp", "h:25", "--auth", "none", "--security", "ssl"}, "--security"},
		{[]string{"--from", "a@b.c", "--smtp", "h:25", "--auth", "xoauth2"}, "--credentials"},
		{[]string{"--from", "a@b.c", "--credentials", "nope"}, "--credentials"},
		{[]string{"--from", "a@b.c", "--credentials", "g", "--security", "none"}, "--security"},
		{[]string{"--from", "a@b.c", "--smtp", "h:25", "--auth", "plain"}, "--password-file"},
		{[]string{"--from", "a@b.c", "--smtp", "h:25", "--auth", "none", "--password-file", pw}, "--password-file"},
		{[]string{"--from", "a@b.c", "--smtp", "h:25", "--auth", "plain", "--password-file", "/no/such/file"}, "--password-file"},
		{[]string{"--from", "a@b.c", "--credentials", "g", "--per-day", "-1"}, "--per-day"},
		{[]string{"--from", "a@b.c", "--credentials", "g", "--confirm-reauth", "maybe"}, "--confirm-reauth"},
		{[]string{"--from", "a@b.c", "--credentials", "g", "--client-cert", pw}, "--client-key"},
		{[]string{"--from", "a@b.c", "--credentials", "g", "--client-cert", pw, "--client-key", pw}, "--client-cert"},
		{[]string{"--from", "a@b.c", "--credentials", "g", "--ca-file", pw}, "--ca-file"},
	} {
		r := runCLI(t, h, "", append([]string{"account", "add", "x"}, tc.args...)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %s", tc.args, r.Code, r.Stderr, tc.want)
		}
	}
	if out := mustRun(t, h, "account", "list", "--json").Stdout; strings.TrimSpace(out) != "[]" {
		t.Fatalf("a refused add saved something: %s", out)
	}
	if r := runCLI(t, h, "", "account", "add", "bad name", "--from", "a@b.c", "--credentials", "g"); r.Code != 2 || !strings.Contains(r.Stderr, "account name") {
		t.Errorf("bad name: %d %q", r.Code, r.Stderr)
	}
}

func TestAccountClientCertificate(t *testing.T) {
	h := withCredentials(t)
	certFile, keyFile := selfSignedPair(t)
	mustRun(t, h, "account", "add", "c", "--from", "a@example.com", "--credentials", "g",
		"--client-cert", certFile, "--client-key", keyFile, "--ca-file", certFile)
	a := showAccount(t, h, "c")
	if a.ClientCert != certFile || a.ClientKey != keyFile || a.CAFile != certFile {
		t.Fatalf("account %+v", a.Account)
	}
	// Outlook.com users turn the certificate off (the guide's 注意点).
	mustRun(t, h, "account", "edit", "c", "--client-cert", "")
	if a := showAccount(t, h, "c"); a.ClientCert != "" || a.ClientKey != "" {
		t.Fatalf("certificate not removed: %+v", a.Account)
	}
}

func selfSignedPair(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bluemoon test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile = writeFile(t, "cert.pem", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	keyFile = writeFile(t, "key.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})))
	return certFile, keyFile
}

// A Google credential file with Microsoft 365's SMTP server (or the other
// way round) is refused, naming what the file is for and what to do; no
// account is saved, nor an edit to such a file. Its own provider's server,
// or none, is taken.
func TestAccountRefusesAnotherProvidersServerForTheCredentials(t *testing.T) {
	h := withCredentials(t)
	for _, tc := range []struct{ creds, smtp, isFor, server string }{
		{"g", "smtp.office365.com:587", "are for google", "the SMTP server smtp.office365.com is microsoft's"},
		{"m", "SMTP.gmail.com:465", "are for microsoft", "the SMTP server SMTP.gmail.com is google's"},
	} {
		r := runCLI(t, h, "", "account", "add", "x", "--from", "a@example.com", "--credentials", tc.creds, "--smtp", tc.smtp)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.isFor) || !strings.Contains(r.Stderr, tc.server) ||
			!strings.Contains(r.Stderr, "bluemoon credentials import") {
			t.Errorf("--credentials %s --smtp %s: exit %d, want 2 saying what the file is for and what to do\n%s", tc.creds, tc.smtp, r.Code, r.Stderr)
		}
		if r := runCLI(t, h, "", "account", "show", "x"); r.Code == 0 {
			t.Fatalf("--credentials %s --smtp %s: the account was saved", tc.creds, tc.smtp)
		}
	}
	mustRun(t, h, "account", "add", "x", "--from", "a@example.com", "--credentials", "m", "--smtp", "smtp.office365.com:587")
	// Changing only the file to another provider's is refused the same way;
	// a change of something else is not.
	r := runCLI(t, h, "", "account", "edit", "x", "--credentials", "g")
	if r.Code != 2 || !strings.Contains(r.Stderr, "are for google") || !strings.Contains(r.Stderr, "--smtp smtp.gmail.com:465") {
		t.Errorf("edit --credentials g of a Microsoft 365 account: exit %d\n%s", r.Code, r.Stderr)
	}
	if a := showAccount(t, h, "x"); a.Credentials != "m" {
		t.Errorf("the refused edit saved credentials %q", a.Credentials)
	}
	mustRun(t, h, "account", "edit", "x", "--per-day", "100")
}
