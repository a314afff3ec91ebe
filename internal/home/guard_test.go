package home_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/credfile"
	"github.com/bluemoon-mail/bluemoon/internal/home"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// A home made the way bluemoon makes one is recognised, its secrets are
// named as such, and folders beside it are not.
func TestDataHomeIsRecognised(t *testing.T) {
	t.Setenv(secrets.KeyringEnv, "off")
	root := t.TempDir()
	h := filepath.Join(root, "home")
	if err := home.Ensure(h); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := secrets.Open(h); err != nil {
		t.Fatal(err)
	}
	if _, _, err := credfile.LoadOrCreateSigningKey(h); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(h)
	if len(entries) == 0 {
		t.Fatal("empty home")
	}
	for _, e := range entries {
		p := filepath.Join(h, e.Name())
		if home.Containing(p) != h {
			t.Errorf("%s: not seen as inside the home", e.Name())
		}
	}
	for _, p := range []string{filepath.Join(h, "secrets", "master.key"), filepath.Join(h, store.FileName), filepath.Join(h, credfile.SigningKeyFile)} {
		if !home.IsSecret(p) {
			t.Errorf("%s is not called a secret", p)
		}
	}
	if home.IsSecret(filepath.Join(h, "logs", "bluemoon.log")) {
		t.Error("the log is not a secret")
	}
	other := filepath.Join(root, "lists", "a.pdf")
	if home.Containing(other) != "" || home.IsSecret(other) {
		t.Error("a folder beside the home counts as the home")
	}
	// Each marker alone is enough.
	for _, m := range []string{store.FileName, "secrets", credfile.SigningKeyFile} {
		d := t.TempDir()
		os.WriteFile(filepath.Join(d, m), nil, 0o600)
		if !home.IsDataHome(d) {
			t.Errorf("%s alone: not a data home", m)
		}
	}
}

// The console's uploads are the one part of a home whose files may be
// attached.
func TestInUploads(t *testing.T) {
	h := t.TempDir()
	os.WriteFile(filepath.Join(h, store.FileName), nil, 0o600)
	for p, want := range map[string]bool{
		filepath.Join(h, home.UploadsDir, "drafts", "x", "list", "a.pdf"): true,
		filepath.Join(h, home.UploadsDir):                                 false,
		filepath.Join(h, "secrets", "master.key"):                         false,
		filepath.Join(h, store.FileName):                                  false,
		filepath.Join(t.TempDir(), home.UploadsDir, "a.pdf"):              false,
	} {
		if got := home.InUploads(p); got != want {
			t.Errorf("InUploads(%s) = %v", p, got)
		}
	}
}

// A file written where the user says may be anywhere but over a data
// home's secrets (named directly or through a link to the home) or a
// folder.
func TestCheckOutputFile(t *testing.T) {
	root := t.TempDir()
	h := filepath.Join(root, "home")
	if err := os.MkdirAll(filepath.Join(h, "logs"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(h, "bluemoon.db"), []byte("db"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "link")
	if err := os.Symlink(h, link); err != nil {
		t.Skip("no symbolic links:", err)
	}
	for _, p := range []string{filepath.Join(h, "bluemoon.db"), filepath.Join(h, "bluemoon.db-wal"), filepath.Join(h, "admin-signing.key"),
		filepath.Join(h, "secrets", "a", "b"), filepath.Join(link, "bluemoon.db"), filepath.Join(link, "secrets", "k"), root, h} {
		if err := home.CheckOutputFile(p); err == nil {
			t.Errorf("%s: allowed", p)
		}
	}
	for _, p := range []string{filepath.Join(root, "row2.eml"), filepath.Join(root, "new", "row2.eml"), filepath.Join(h, "demo", "acme.bmcred")} {
		if err := home.CheckOutputFile(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
