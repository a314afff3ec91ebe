package home

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestResolveOrder(t *testing.T) {
	t.Setenv(EnvVar, "/tmp/from-env")
	if got, _ := Resolve("/tmp/from-flag"); got != "/tmp/from-flag" {
		t.Fatalf("flag ignored: %s", got)
	}
	if got, _ := Resolve(""); got != "/tmp/from-env" {
		t.Fatalf("env ignored: %s", got)
	}
	t.Setenv(EnvVar, "")
	got, err := Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(got) != "bluemoon" {
		t.Fatalf("default home %s does not end in bluemoon", got)
	}
}

func TestEnsureAndSecretFileModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	dir := filepath.Join(t.TempDir(), "h")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("home mode %v, want 0700", fi.Mode().Perm())
	}
	p := filepath.Join(dir, "secret")
	if err := WriteSecretFile(p, []byte("x")); err != nil {
		t.Fatal(err)
	}
	fi, _ = os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
}

// A replaced secret (a rotated refresh token) is durable only when the
// folder holding the new name is flushed after the rename.
func TestWriteSecretFileSyncsTheFolderAfterRenaming(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "token")
	var synced []string
	orig := syncDir
	syncDir = func(d string) error {
		// Only a sync after the rename helps: the new content must be in place.
		if b, err := os.ReadFile(p); err != nil || string(b) != "new" {
			t.Errorf("folder synced before the file was renamed into place (%q, %v)", b, err)
		}
		synced = append(synced, d)
		return orig(d)
	}
	defer func() { syncDir = orig }()
	if err := WriteSecretFile(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if len(synced) != 1 || synced[0] != dir {
		t.Fatalf("synced folders %v, want [%s]", synced, dir)
	}
}
