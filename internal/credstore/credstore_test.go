package credstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

func open(t *testing.T) *Store {
	t.Helper()
	t.Setenv(secrets.KeyringEnv, "off")
	dir := t.TempDir()
	db, err := store.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	sec, err := secrets.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &Store{DB: db.DB, Secrets: sec}
}

func googleConfig(t *testing.T) provider.Config {
	t.Helper()
	cfg, err := provider.FillDefaults(provider.Config{Provider: provider.Google, ClientID: "id-123.apps", ClientSecret: "GOCSPX-very-secret"})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestImportKeepsSecretOutOfTheDatabase(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	cfg := googleConfig(t)
	if err := s.Import(ctx, "acme", cfg, ImportOptions{Signer: "SHA256:abc"}); err != nil {
		t.Fatal(err)
	}
	var body string
	if err := s.DB.QueryRowContext(ctx, `SELECT config_json FROM credentials WHERE name='acme'`).Scan(&body); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, "GOCSPX") {
		t.Fatalf("client secret stored in the database: %s", body)
	}
	c, err := s.Get(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasSecret || c.Config.ClientSecret != "" || c.Signer != "SHA256:abc" || c.Provider != provider.Google {
		t.Fatalf("Get = %+v", c)
	}
	full, err := s.Config(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if full != cfg {
		t.Fatalf("Config = %+v, want %+v", full, cfg)
	}
}

func TestImportRefusesDuplicateUnlessReplace(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	cfg := googleConfig(t)
	if err := s.Import(ctx, "acme", cfg, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg.ClientSecret = "second"
	if err := s.Import(ctx, "acme", cfg, ImportOptions{}); !errors.Is(err, ErrExists) {
		t.Fatalf("second import: %v, want ErrExists", err)
	}
	if got, _ := s.Config(ctx, "acme"); got.ClientSecret != "GOCSPX-very-secret" {
		t.Fatalf("refused import changed the secret to %q", got.ClientSecret)
	}
	if err := s.Import(ctx, "acme", cfg, ImportOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Config(ctx, "acme"); got.ClientSecret != "second" {
		t.Fatalf("replace kept secret %q", got.ClientSecret)
	}
}

func TestMicrosoftWithoutSecret(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	cfg, _ := provider.FillDefaults(provider.Config{Provider: provider.Microsoft, Tenant: "contoso.onmicrosoft.com", ClientID: "0000-1111"})
	if err := s.Import(ctx, "ms", cfg, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	c, err := s.Get(ctx, "ms")
	if err != nil {
		t.Fatal(err)
	}
	if c.HasSecret {
		t.Fatal("HasSecret for a public client")
	}
	full, _ := s.Config(ctx, "ms")
	if full.ClientSecret != "" || !strings.Contains(full.TokenEndpoint, "/contoso.onmicrosoft.com/") {
		t.Fatalf("Config = %+v", full)
	}
}

func TestRemove(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	if err := s.Import(ctx, "acme", googleConfig(t), ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := s.DB.ExecContext(ctx, `INSERT INTO accounts (name, from_addr, smtp_host, smtp_port, security, auth, credentials, created_at, updated_at)
		VALUES ('news', 'news@example.com', 'smtp.gmail.com', 465, 'tls', 'xoauth2', 'acme', '', '')`)
	if err != nil {
		t.Fatal(err)
	}
	var inUse *InUseError
	if err := s.Remove(ctx, "acme"); !errors.As(err, &inUse) || inUse.Accounts[0] != "news" {
		t.Fatalf("Remove while used: %v", err)
	}
	s.DB.ExecContext(ctx, `DELETE FROM accounts`)
	if err := s.Remove(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Remove: %v", err)
	}
	if _, err := s.Secrets.Get(SecretName("acme")); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("secret left behind: %v", err)
	}
	if err := s.Remove(ctx, "acme"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second Remove: %v", err)
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"acme", "acme-google.2026", "A_b"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-x", "a b", "a/b", strings.Repeat("x", 65)} {
		if err := ValidateName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A replacing import whose commit fails leaves the old credentials as they
// were, their client secret included: the row is rolled back, so the
// secret must be too.
func TestFailedReplaceKeepsTheOldSecret(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	cfg := googleConfig(t)
	if err := s.Import(ctx, "acme", cfg, ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	// A deferred foreign key that the insert breaks makes COMMIT fail, as a
	// full disk would.
	for _, q := range []string{
		`CREATE TABLE t_parent (id INTEGER PRIMARY KEY)`,
		`CREATE TABLE t_child (p INTEGER REFERENCES t_parent(id) DEFERRABLE INITIALLY DEFERRED)`,
		`CREATE TRIGGER t_break AFTER INSERT ON credentials BEGIN INSERT INTO t_child VALUES (42); END`,
	} {
		if _, err := s.DB.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	for _, secret := range []string{"GOCSPX-new-secret", ""} {
		next := cfg
		next.ClientID, next.ClientSecret = "other-client", secret
		if secret == "" {
			next.Provider = provider.Generic
		}
		if err := s.Import(ctx, "acme", next, ImportOptions{Replace: true}); err == nil {
			t.Fatalf("import with secret %q: the commit did not fail", secret)
		}
		got, err := s.Config(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if got.ClientID != cfg.ClientID || got.ClientSecret != cfg.ClientSecret {
			t.Fatalf("after a failed replace (secret %q): client %q, secret kept %v", secret, got.ClientID, got.ClientSecret == cfg.ClientSecret)
		}
	}
}
