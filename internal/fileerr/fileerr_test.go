package fileerr

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExplainSaysItOnce(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "list.csv")
	_, openErr := os.ReadFile(missing)
	_, statErr := os.Stat(missing)
	_, lstatErr := os.Lstat(missing)
	for _, err := range []error{openErr, statErr, lstatErr} {
		got := Explain(err)
		if got.Error() != "cannot open "+missing+": no such file" || !errors.Is(got, fs.ErrNotExist) {
			t.Errorf("%v became %q", err, got)
		}
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = f.Read(make([]byte, 10))
	if got := Explain(err).Error(); !strings.HasPrefix(got, "cannot read "+dir+": ") || strings.Contains(got, "read "+dir+": read") {
		t.Errorf("reading a folder: %q", got)
	}
	other := errors.New("already worded")
	if Explain(other) != other || Explain(nil) != nil {
		t.Error("errors that are not a file operation's must pass unchanged")
	}
}
