//go:build !windows

package logfile

import (
	"os"
	"path/filepath"
	"testing"
)

// Log lines name recipients and accounts: a log folder or file that others
// could read (made by hand, copied in, or left by an older version) is
// made the owner's alone when bluemoon opens it.
func TestOpenTightensAnExistingLogAndFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bluemoon.log")
	if err := os.WriteFile(path, []byte("old line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	os.Chmod(path, 0o644)
	l, err := Open(path, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %o, want %o", p, fi.Mode().Perm(), want)
		}
	}
}
