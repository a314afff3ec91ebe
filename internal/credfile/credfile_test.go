package credfile

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// cheap keeps the passphrase tests fast; the default settings are used by
// the CLI tests and TestDefaultArgon2.
var cheap = &Argon2Params{Time: 1, MemoryKiB: 1024, Threads: 1}

const secret = "GOCSPX-s3cr3t-value-for-tests"

func testKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func googleConfig(t testing.TB) provider.Config {
	t.Helper()
	c, err := provider.FillDefaults(provider.Config{Provider: provider.Google, ClientID: "1234-abcd.apps.googleusercontent.com", ClientSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func seal(t testing.TB, cfg provider.Config, key ed25519.PrivateKey, pass string) []byte {
	t.Helper()
	b, err := Seal(cfg, key, SealOptions{Passphrase: []byte(pass), Argon2: cheap})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	key := testKey(t)
	cfg := googleConfig(t)
	for _, pass := range []string{"", "correct horse battery staple"} {
		data := seal(t, cfg, key, pass)
		for _, leak := range []string{secret, cfg.ClientID, "googleapis", "mail.google.com"} {
			if bytes.Contains(data, []byte(leak)) {
				t.Errorf("passphrase %q: file bytes contain %q", pass, leak)
			}
		}
		f, err := Open(data, OpenOptions{Passphrase: []byte(pass)})
		if err != nil {
			t.Fatalf("passphrase %q: %v", pass, err)
		}
		if f.Config != cfg {
			t.Fatalf("got %+v, want %+v", f.Config, cfg)
		}
		if f.Envelope.Fingerprint() != Fingerprint(key.Public().(ed25519.PublicKey)) {
			t.Fatal("fingerprint is not the signer's")
		}
		if f.Envelope.NeedsPassphrase() != (pass != "") {
			t.Fatalf("NeedsPassphrase = %v with passphrase %q", f.Envelope.NeedsPassphrase(), pass)
		}
	}
}

func TestSealRefusesIncompleteConfig(t *testing.T) {
	cfg := googleConfig(t)
	cfg.ClientSecret = ""
	_, err := Seal(cfg, testKey(t), SealOptions{})
	var missing *provider.MissingFieldError
	if !errors.As(err, &missing) || missing.Field != "client_secret" {
		t.Fatalf("Seal without Google secret: %v", err)
	}
}

func TestEveryFlippedByteIsRefused(t *testing.T) {
	for _, pass := range []string{"", "pw"} {
		data := seal(t, googleConfig(t), testKey(t), pass)
		for i := range data {
			for _, mask := range []byte{0x01, 0x20, 0x80} {
				bad := bytes.Clone(data)
				bad[i] ^= mask
				_, err := Open(bad, OpenOptions{Passphrase: []byte(pass)})
				if !errors.Is(err, ErrDamaged) {
					t.Fatalf("byte %d ^ %#x (%q): err = %v, want modified or damaged", i, mask, data[i], err)
				}
				if !strings.Contains(err.Error(), "modified or damaged") {
					t.Fatalf("message %q does not say modified or damaged", err)
				}
			}
		}
	}
}

func TestEveryTruncationIsRefused(t *testing.T) {
	data := seal(t, googleConfig(t), testKey(t), "")
	for n := 1; n < len(data); n++ {
		_, err := Open(data[:n], OpenOptions{})
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("first %d of %d bytes: err = %v, want truncated", n, len(data), err)
		}
	}
	if _, err := Open(nil, OpenOptions{}); !errors.Is(err, ErrNotCredentialFile) {
		t.Fatalf("empty file: %v", err)
	}
}

func TestAppendedTextIsRefused(t *testing.T) {
	data := seal(t, googleConfig(t), testKey(t), "")
	for _, tail := range []string{"\n", "x", "signature AAAA\n"} {
		if _, err := Open(append(bytes.Clone(data), tail...), OpenOptions{}); !errors.Is(err, ErrDamaged) {
			t.Errorf("appended %q: %v", tail, err)
		}
	}
}

func TestCRLFConvertedFileOpens(t *testing.T) {
	cfg := googleConfig(t)
	data := seal(t, cfg, testKey(t), "")
	crlf := bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
	f, err := Open(crlf, OpenOptions{})
	if err != nil || f.Config != cfg {
		t.Fatalf("CRLF file: %v", err)
	}
	mixed := bytes.Replace(data, []byte("\n"), []byte("\r\n"), 1)
	if _, err := Open(mixed, OpenOptions{}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("mixed line ends: %v", err)
	}
}

func TestPassphrase(t *testing.T) {
	data := seal(t, googleConfig(t), testKey(t), "right")
	if _, err := Open(data, OpenOptions{Passphrase: []byte("wrong")}); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := Open(data, OpenOptions{}); !errors.Is(err, ErrPassphraseRequired) {
		t.Fatalf("no passphrase: %v", err)
	}
}

func TestNewerVersionIsRefused(t *testing.T) {
	data := newerVersionFile(t, testKey(t))
	_, err := Open(data, OpenOptions{})
	if !errors.Is(err, ErrNewerVersion) || !strings.Contains(err.Error(), "made by a newer bluemoon") {
		t.Fatalf("newer version: %v", err)
	}
	// The checked-in copy (used by the CLI tests and the fuzz corpus) too.
	saved, err := os.ReadFile(filepath.Join("testdata", "newer-version.bmcred"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(saved, OpenOptions{}); !errors.Is(err, ErrNewerVersion) {
		t.Fatalf("testdata/newer-version.bmcred: %v", err)
	}
}

// newerVersionFile is what a future bluemoon might write: version 2, a
// field this one does not know, a payload it could not read.
func newerVersionFile(t testing.TB, key ed25519.PrivateKey) []byte {
	t.Helper()
	h := header{Version: Version + 1, KDF: "future-kdf", Nonce: make([]byte, 24), Signer: key.Public().(ed25519.PublicKey)}
	b, err := assemble(h, []byte(`{"something":"new"}`), builtinKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTooLarge(t *testing.T) {
	big := append([]byte(Magic+"\n"), bytes.Repeat([]byte("A"), MaxSize)...)
	if _, err := Open(big, OpenOptions{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("Open of %d bytes: %v", len(big), err)
	}
	path := filepath.Join(t.TempDir(), "big.bmcred")
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadFile(path); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadFile of %d bytes: %v", len(big), err)
	}
}

func TestNotACredentialFile(t *testing.T) {
	for _, data := range []string{
		"hello world\n",
		"\x89PNG\r\n\x1a\n\x00\x00",
		`{"provider":"google","client_id":"x"}`,
		"BLUEMOON-SETTINGS\nsomething else\n",
	} {
		if _, err := Open([]byte(data), OpenOptions{}); !errors.Is(err, ErrNotCredentialFile) {
			t.Errorf("%q: %v, want not a credential file", data, err)
		}
	}
}

func TestTrust(t *testing.T) {
	key := testKey(t)
	data := seal(t, googleConfig(t), key, "")
	fp := Fingerprint(key.Public().(ed25519.PublicKey))
	for _, ok := range []string{"", fp, strings.TrimPrefix(fp, "SHA256:"), " " + fp + "= "} {
		if _, err := Open(data, OpenOptions{Trust: ok}); err != nil {
			t.Errorf("trust %q: %v", ok, err)
		}
	}
	// Someone who swaps the token endpoint must re-sign with their own key:
	// the file is valid, but not from the trusted signer.
	cfg := googleConfig(t)
	cfg.TokenEndpoint = "https://evil.example/token"
	forged := seal(t, cfg, testKey(t), "")
	_, err := Open(forged, OpenOptions{Trust: fp})
	var untrusted *UntrustedSignerError
	if !errors.As(err, &untrusted) || untrusted.Want != fp || untrusted.Got == fp {
		t.Fatalf("forged file with --trust: %v", err)
	}
}

// A --trust that is not a fingerprint at all is called malformed, not
// "signed by someone else": the user mistyped, nobody forged anything.
func TestMalformedTrust(t *testing.T) {
	key := testKey(t)
	data := seal(t, googleConfig(t), key, "")
	fp := Fingerprint(key.Public().(ed25519.PublicKey))
	for _, bad := range []string{"SHA256:", "xyz", fp[:len(fp)-3], fp + "AAAA", "SHA256:" + strings.Repeat("!", 43), "MD5:" + fp[7:]} {
		_, err := Open(data, OpenOptions{Trust: bad})
		var mt *MalformedTrustError
		if !errors.As(err, &mt) || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("trust %q: %v", bad, err)
		}
	}
}

func TestSigningKey(t *testing.T) {
	dir := t.TempDir()
	k1, created, err := LoadOrCreateSigningKey(dir)
	if err != nil || !created {
		t.Fatalf("first use: created=%v err=%v", created, err)
	}
	k2, created, err := LoadOrCreateSigningKey(dir)
	if err != nil || created || !k1.Equal(k2) {
		t.Fatalf("second use: created=%v err=%v same=%v", created, err, k1.Equal(k2))
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(filepath.Join(dir, SigningKeyFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v, %v", fi.Mode().Perm(), err)
		}
	}
	fp := Fingerprint(k1.Public().(ed25519.PublicKey))
	if !strings.HasPrefix(fp, "SHA256:") || len(fp) != len("SHA256:")+43 {
		t.Fatalf("fingerprint %q", fp)
	}
}

func TestHeaderIsSelfDescribing(t *testing.T) {
	data := seal(t, googleConfig(t), testKey(t), "pw")
	lines := strings.Split(string(data), "\n")
	var h map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &h); err != nil {
		t.Fatal(err)
	}
	if lines[0] != Magic || h["version"] != float64(1) || h["kdf"] != "argon2id" || h["signer"] == nil || h["argon2"] == nil {
		t.Fatalf("header %s", lines[1])
	}
}

func TestDefaultArgon2(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB key derivation")
	}
	cfg := googleConfig(t)
	data, err := Seal(cfg, testKey(t), SealOptions{Passphrase: []byte("pw")})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(data, OpenOptions{Passphrase: []byte("pw")})
	if err != nil || f.Config != cfg {
		t.Fatalf("default argon2: %v", err)
	}
}
