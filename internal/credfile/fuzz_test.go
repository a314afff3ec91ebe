package credfile

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/newer-version.bmcred and the FuzzOpen seed files")

// FuzzOpen feeds Open arbitrary bytes: it must never panic, and whatever it
// refuses it refuses with one of the errors the CLI explains.
func FuzzOpen(f *testing.F) {
	key := testKey(f)
	valid := seal(f, googleConfig(f), key, "")
	withPass := seal(f, googleConfig(f), key, "pw")
	flipped := bytes.Clone(valid)
	flipped[len(flipped)/2] ^= 0x04
	f.Add(valid)
	f.Add(withPass)
	f.Add(valid[:len(valid)/2])
	f.Add(valid[:len(Magic)+3])
	f.Add(flipped)
	f.Add(bytes.ReplaceAll(valid, []byte("\n"), []byte("\r\n")))
	f.Add(newerVersionFile(f, key))
	f.Add([]byte{})
	f.Add([]byte("not a credential file"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Open(data, OpenOptions{Passphrase: []byte("pw")})
		if err == nil {
			if file.Config.Validate() != nil {
				t.Fatalf("Open accepted an invalid config: %+v", file.Config)
			}
			return
		}
		for _, known := range []error{ErrTooLarge, ErrNotCredentialFile, ErrDamaged, ErrNewerVersion, ErrPassphraseRequired, ErrWrongPassphrase} {
			if errors.Is(err, known) {
				return
			}
		}
		t.Fatalf("unclassified error %v", err)
	})
}

// TestUpdateTestdata regenerates the checked-in files with -update.
func TestUpdateTestdata(t *testing.T) {
	if !*update {
		return // a tool, not a test: `go test -run TestUpdateTestdata -update` regenerates testdata
	}
	key := testKey(t)
	if err := os.WriteFile(filepath.Join("testdata", "newer-version.bmcred"), newerVersionFile(t, key), 0o644); err != nil {
		t.Fatal(err)
	}
	valid := seal(t, googleConfig(t), key, "")
	dir := filepath.Join("testdata", "fuzz", "FuzzOpen")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seeds := map[string][]byte{
		"valid":          valid,
		"passphrase":     seal(t, googleConfig(t), key, "pw"),
		"truncated":      valid[:len(valid)-10],
		"newer-version":  newerVersionFile(t, key),
		"header-only":    []byte(Magic + "\n{\"version\":1}\n"),
		"bad-signature":  append(bytes.Clone(valid[:len(valid)-5]), "AAA=\n"...),
		"huge-argon2":    []byte(Magic + "\n{\"version\":1,\"kdf\":\"argon2id\",\"argon2\":{\"t\":4294967295,\"m\":4294967295,\"p\":255}}\nAAAA\nsignature AAAA\n"),
		"not-credential": []byte("From: someone\r\nSubject: hi\r\n\r\nbody\r\n"),
	}
	for name, data := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
