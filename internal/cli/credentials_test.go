package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/credfile"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

func init() {
	// The default Argon2id settings (64 MiB, 3 passes) take seconds under
	// -race on a shared machine; credfile's TestDefaultArgon2 covers them.
	credfile.DefaultArgon2 = credfile.Argon2Params{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
}

const googleSecret = "GOCSPX-Zq8-never-show-me"

// newHome is an empty data home whose secrets key stays in a file, as on a
// headless machine.
func newHome(t *testing.T) string {
	t.Helper()
	t.Setenv(secrets.KeyringEnv, "off")
	return t.TempDir()
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// makeGoogleFile creates a Google credential file in an admin home.
func makeGoogleFile(t *testing.T, admin string, extra ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "acme-google.bmcred")
	args := append([]string{"credentials", "create", "--provider", "google",
		"--client-id", "1234-abc.apps.googleusercontent.com", "--client-secret", googleSecret, "--out", out}, extra...)
	r := mustRun(t, admin, args...)
	if strings.Contains(r.Stdout+r.Stderr, googleSecret) {
		t.Fatalf("create printed the client secret:\n%s%s", r.Stdout, r.Stderr)
	}
	return out
}

func TestDefaultsMicrosoftEndpointsCarryTheTenant(t *testing.T) {
	h := newHome(t)
	for _, tc := range []struct{ tenant, want string }{
		{"", "organizations"},
		{"contoso.onmicrosoft.com", "contoso.onmicrosoft.com"},
		{"consumers", "consumers"},
		{"72f988bf-86f1-41af-91ab-2d7cd011db47", "72f988bf-86f1-41af-91ab-2d7cd011db47"},
	} {
		args := []string{"credentials", "defaults", "--provider", "microsoft", "--json"}
		if tc.tenant != "" {
			args = append(args, "--tenant", tc.tenant)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(mustRun(t, h, args...).Stdout), &got); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"provider", "tenant", "client_id", "client_secret", "auth_endpoint", "auth_scope", "token_endpoint", "token_scope", "redirect_uri"} {
			if _, ok := got[k]; !ok {
				t.Errorf("--json lacks key %s", k)
			}
		}
		base := "https://login.microsoftonline.com/" + tc.want + "/oauth2/v2.0/"
		if got["tenant"] != tc.want || got["auth_endpoint"] != base+"authorize" || got["token_endpoint"] != base+"token" {
			t.Errorf("tenant %q: %v", tc.tenant, got)
		}
		if !strings.Contains(got["token_scope"], "https://outlook.office.com/SMTP.Send") || !strings.Contains(got["token_scope"], "offline_access") {
			t.Errorf("token scope %q cannot send over SMTP", got["token_scope"])
		}
	}
}

func TestDefaultsGoogleText(t *testing.T) {
	out := mustRun(t, newHome(t), "credentials", "defaults", "--provider", "google").Stdout
	for _, want := range []string{"https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token", "https://mail.google.com/", "http://127.0.0.1"} {
		if !strings.Contains(out, want) {
			t.Errorf("defaults lack %s:\n%s", want, out)
		}
	}
}

func TestBadTenantIsRefusedWithTheValidForms(t *testing.T) {
	h := newHome(t)
	for _, cmd := range [][]string{
		{"credentials", "defaults", "--provider", "microsoft", "--tenant", "not a tenant"},
		{"credentials", "create", "--provider", "microsoft", "--tenant", "bad/tenant", "--client-id", "x", "--out", filepath.Join(t.TempDir(), "f")},
	} {
		r := runCLI(t, h, "", cmd...)
		if r.Code != 2 {
			t.Fatalf("%v: exit %d", cmd, r.Code)
		}
		for _, form := range []string{"--tenant", "common", "organizations", "consumers", "contoso.onmicrosoft.com", "GUID"} {
			if !strings.Contains(r.Stderr, form) {
				t.Errorf("%v: error %q does not mention %s", cmd, r.Stderr, form)
			}
		}
	}
}

func TestCreateRefusesIncompleteFiles(t *testing.T) {
	h := newHome(t)
	out := filepath.Join(t.TempDir(), "x.bmcred")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--provider", "google", "--client-id", "id"}, "client_secret"},
		{[]string{"--provider", "google", "--client-secret", "s"}, "client_id"},
		{[]string{"--provider", "microsoft"}, "client_id"},
		{[]string{"--provider", "generic", "--client-id", "id"}, "auth_endpoint"},
	} {
		r := runCLI(t, h, "", append([]string{"credentials", "create", "--out", out}, tc.args...)...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want refusal naming %s", tc.args, r.Code, r.Stderr, tc.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("%v: an incomplete file was written", tc.args)
		}
	}
}

func TestCreateSaysFingerprintAndKeepsTheSigningKey(t *testing.T) {
	admin := newHome(t)
	out := filepath.Join(t.TempDir(), "f.bmcred")
	r := mustRun(t, admin, "credentials", "create", "--provider", "google", "--client-id", "id", "--client-secret", googleSecret, "--out", out)
	if !strings.Contains(r.Stdout, "SHA256:") || !strings.Contains(r.Stdout, "anyone with bluemoon can read") {
		t.Fatalf("create output:\n%s", r.Stdout)
	}
	fi, err := os.Stat(filepath.Join(admin, credfile.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm()&0o077 != 0 && os.PathSeparator == '/' {
		t.Fatalf("signing key mode %v", fi.Mode().Perm())
	}
	// Same key next time: a refused overwrite, then a forced one, same signer.
	if r := runCLI(t, admin, "", "credentials", "create", "--provider", "google", "--client-id", "id", "--client-secret", "s", "--out", out); r.Code != 2 || !strings.Contains(r.Stderr, "--force") {
		t.Fatalf("overwrite without --force: exit %d %q", r.Code, r.Stderr)
	}
	r2 := mustRun(t, admin, "credentials", "create", "--provider", "google", "--client-id", "id", "--client-secret", "s", "--out", out, "--force")
	if fingerprintIn(r.Stdout) != fingerprintIn(r2.Stdout) || strings.Contains(r2.Stdout, "new admin signing key") {
		t.Fatalf("second file signed by another key:\n%s\n%s", r.Stdout, r2.Stdout)
	}
}

func fingerprintIn(s string) string {
	i := strings.Index(s, "SHA256:")
	if i < 0 {
		return ""
	}
	return strings.Fields(s[i:])[0]
}

func TestFileMadeOnOneMachineImportsOnAnother(t *testing.T) {
	admin, user := newHome(t), newHome(t)
	file := makeGoogleFile(t, admin)
	data, _ := os.ReadFile(file)
	if bytes.Contains(data, []byte(googleSecret)) || bytes.Contains(data, []byte("1234-abc")) {
		t.Fatal("the file's bytes show the client secret or ID")
	}
	fp := fingerprintIn(mustRun(t, admin, "credentials", "create", "--provider", "google", "--client-id", "x", "--client-secret", "y", "--out", filepath.Join(t.TempDir(), "other.bmcred")).Stdout)

	r := mustRun(t, user, "credentials", "import", file, "--trust", fp)
	if !strings.Contains(r.Stdout+r.Stderr, fp) {
		t.Fatalf("import does not show the signer %s:\n%s%s", fp, r.Stdout, r.Stderr)
	}
	outputs := r.Stdout + r.Stderr
	for _, args := range [][]string{
		{"credentials", "list"}, {"credentials", "list", "--json"},
		{"credentials", "show", "acme-google"}, {"credentials", "show", "acme-google", "--json"},
	} {
		r := mustRun(t, user, args...)
		outputs += r.Stdout + r.Stderr
	}
	if strings.Contains(outputs, googleSecret) {
		t.Fatalf("the client secret was printed:\n%s", outputs)
	}
	show := mustRun(t, user, "credentials", "show", "acme-google").Stdout
	if !regexpMatch(`client secret:\s+set`, show) || !strings.Contains(show, "1234-abc.apps.googleusercontent.com") {
		t.Fatalf("show:\n%s", show)
	}
	// What the sign-in code gets: the full config, secret included.
	cfg := userConfig(t, user, "acme-google")
	if cfg.ClientSecret != googleSecret || cfg.TokenEndpoint != "https://oauth2.googleapis.com/token" {
		t.Fatalf("stored config %+v", cfg)
	}
	// Nowhere in the user's data home in clear either.
	filepath.Walk(user, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, []byte(googleSecret)) {
				t.Errorf("%s holds the client secret in clear", p)
			}
		}
		return nil
	})
}

func userConfig(t *testing.T, h, name string) (cfg struct {
	ClientSecret, TokenEndpoint, AuthEndpoint, Tenant string
}) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sec, err := secrets.Open(h)
	if err != nil {
		t.Fatal(err)
	}
	c, err := (&credstore.Store{DB: db.DB, Secrets: sec}).Config(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ClientSecret, cfg.TokenEndpoint, cfg.AuthEndpoint, cfg.Tenant = c.ClientSecret, c.TokenEndpoint, c.AuthEndpoint, c.Tenant
	return cfg
}

func TestMicrosoftFileWithTenantAndNoSecret(t *testing.T) {
	admin, user := newHome(t), newHome(t)
	out := filepath.Join(t.TempDir(), "contoso.bmcred")
	mustRun(t, admin, "credentials", "create", "--provider", "microsoft", "--tenant", "contoso.onmicrosoft.com",
		"--client-id", "9d6f1c3e-0000-4000-8000-000000000001", "--out", out)
	mustRun(t, user, "credentials", "import", out, "--name", "m365")
	show := mustRun(t, user, "credentials", "show", "m365").Stdout
	if !regexpMatch(`client secret:\s+none`, show) {
		t.Fatalf("show:\n%s", show)
	}
	cfg := userConfig(t, user, "m365")
	if cfg.ClientSecret != "" || cfg.Tenant != "contoso.onmicrosoft.com" ||
		cfg.TokenEndpoint != "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token" ||
		cfg.AuthEndpoint != "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize" {
		t.Fatalf("imported %+v", cfg)
	}
}

func TestPassphraseFile(t *testing.T) {
	admin, user := newHome(t), newHome(t)
	pass := writeFile(t, "pass", "blue moon rising\n")
	file := makeGoogleFile(t, admin, "--passphrase-file", pass)
	mustRun(t, user, "credentials", "import", file, "--passphrase-file", pass, "--name", "p")
	if cfg := userConfig(t, user, "p"); cfg.ClientSecret != googleSecret {
		t.Fatalf("secret %q", cfg.ClientSecret)
	}
	// From standard input too, as a script would pipe it.
	r := runCLI(t, user, "blue moon rising\n", "credentials", "import", file, "--passphrase-file", "-", "--name", "q")
	if r.Code != 0 {
		t.Fatalf("stdin passphrase: %d %s", r.Code, r.Stderr)
	}
}

func TestCustomEndpointNeedsConsent(t *testing.T) {
	admin, user := newHome(t), newHome(t)
	file := makeGoogleFile(t, admin, "--token-endpoint", "https://login.example.net/token")
	r := runCLI(t, user, "", "credentials", "import", file)
	if r.Code != 2 || !strings.Contains(r.Stderr, "token_endpoint = https://login.example.net/token") ||
		!strings.Contains(r.Stderr, "--accept-custom-endpoints") || !strings.Contains(r.Stderr, "nothing was imported") {
		t.Fatalf("exit %d, stderr %q", r.Code, r.Stderr)
	}
	assertNothingImported(t, user)
	r = mustRun(t, user, "credentials", "import", file, "--accept-custom-endpoints", "--json")
	var got struct {
		Custom []string `json:"custom_endpoints"`
	}
	json.Unmarshal([]byte(r.Stdout), &got)
	if len(got.Custom) != 1 {
		t.Fatalf("--json custom endpoints %v", got.Custom)
	}
}

func assertNothingImported(t *testing.T, h string) {
	t.Helper()
	if out := mustRun(t, h, "credentials", "list", "--json").Stdout; strings.TrimSpace(out) != "[]" {
		t.Fatalf("something was imported: %s", out)
	}
	sec, err := secrets.Open(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"acme-google", "x"} {
		if _, err := sec.Get(credstore.SecretName(n)); err == nil {
			t.Fatalf("secret of %s stored", n)
		}
	}
}

func TestBadFilesAreRefusedAndNothingImported(t *testing.T) {
	admin := newHome(t)
	good := makeGoogleFile(t, admin)
	pass := writeFile(t, "pass", "right")
	withPass := makeGoogleFile(t, admin, "--passphrase-file", pass)
	data, _ := os.ReadFile(good)
	flipped := bytes.Clone(data)
	flipped[len(flipped)/2] ^= 0x01
	newer, err := os.ReadFile(filepath.Join("..", "credfile", "testdata", "newer-version.bmcred"))
	if err != nil {
		t.Fatal(err)
	}
	huge := append([]byte(credfile.Magic+"\n"), bytes.Repeat([]byte("A"), credfile.MaxSize)...)
	for _, tc := range []struct {
		name  string
		file  string
		extra []string
		want  string
	}{
		{"flipped byte", writeFile(t, "x", string(flipped)), nil, "modified or damaged"},
		{"truncated", writeFile(t, "x", string(data[:len(data)-20])), nil, "truncated"},
		{"wrong passphrase", withPass, []string{"--passphrase-file", writeFile(t, "p", "wrong")}, "wrong passphrase"},
		{"no passphrase", withPass, nil, "--passphrase-file"},
		{"newer version", writeFile(t, "x", string(newer)), nil, "made by a newer bluemoon"},
		{"over 1 MiB", writeFile(t, "x", string(huge)), nil, "1 MiB"},
		{"not a credential file", writeFile(t, "x", "name,email\nA,a@example.com\n"), nil, "not a bluemoon credential file"},
		{"wrong --trust", good, []string{"--trust", "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"}, "not by the trusted key"},
		{"missing file", filepath.Join(t.TempDir(), "nope.bmcred"), nil, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := newHome(t)
			r := runCLI(t, user, "", append([]string{"credentials", "import", tc.file, "--name", "x"}, tc.extra...)...)
			if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", r.Code, r.Stderr, tc.want)
			}
			if strings.Contains(r.Stdout+r.Stderr, googleSecret) {
				t.Fatal("secret printed")
			}
			assertNothingImported(t, user)
		})
	}
}

func TestImportNameClashAndRemove(t *testing.T) {
	admin, user := newHome(t), newHome(t)
	file := makeGoogleFile(t, admin)
	mustRun(t, user, "credentials", "import", file)
	if r := runCLI(t, user, "", "credentials", "import", file); r.Code != 2 || !strings.Contains(r.Stderr, "--replace") {
		t.Fatalf("second import: %d %q", r.Code, r.Stderr)
	}
	mustRun(t, user, "credentials", "import", file, "--replace")
	mustRun(t, user, "credentials", "remove", "acme-google")
	assertNothingImported(t, user)
	if r := runCLI(t, user, "", "credentials", "remove", "acme-google"); r.Code != 2 || !strings.Contains(r.Stderr, "no such credentials") {
		t.Fatalf("remove twice: %d %q", r.Code, r.Stderr)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
