package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestReadFileTakesOnlyPlainFilesWithinTheLimit(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.pdf")
	os.WriteFile(p, []byte("0123456789"), 0o600)
	if b, err := ReadFile(p, 10); err != nil || string(b) != "0123456789" {
		t.Fatalf("%q %v", b, err)
	}
	var tl *TooLargeError
	if _, err := ReadFile(p, 9); !errors.As(err, &tl) || tl.Size != 10 {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := ReadFile(dir, 1<<20); !IsNotRegular(err) || err.Error() != dir+" is a folder, not a plain file" {
		t.Errorf("folder: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "none"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}
