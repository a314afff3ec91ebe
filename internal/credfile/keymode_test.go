//go:build !windows

package credfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Anyone who can read the admin signing key can sign credential files that
// users trust: a key found readable by others is made the owner's alone.
func TestSigningKeyReadableByOthersIsTightened(t *testing.T) {
	dir := t.TempDir()
	first, created, err := LoadOrCreateSigningKey(dir)
	if err != nil || !created {
		t.Fatalf("create: %v (created %v)", err, created)
	}
	path := filepath.Join(dir, SigningKeyFile)
	if err := os.Chmod(path, 0o644); err != nil { // as restored from a backup
		t.Fatal(err)
	}
	again, created, err := LoadOrCreateSigningKey(dir)
	if err != nil || created || !again.Equal(first) {
		t.Fatalf("reload: %v (created %v, same key %v)", err, created, again.Equal(first))
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("signing key mode %o, want 600", fi.Mode().Perm())
	}
}
