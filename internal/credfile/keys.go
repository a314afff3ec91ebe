package credfile

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/bluemoon-mail/bluemoon/internal/home"
)

// SigningKeyFile is the admin's signing key inside the data home.
const SigningKeyFile = "admin-signing.key"

// LoadOrCreateSigningKey returns the admin signing key of the data home
// dir, creating it (0600, PKCS#8 PEM) on first use; created says so.
func LoadOrCreateSigningKey(dir string) (key ed25519.PrivateKey, created bool, err error) {
	path := filepath.Join(dir, SigningKeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := parseSigningKey(b)
		if err != nil {
			return nil, false, fmt.Errorf("signing key %s: %w", path, err)
		}
		// A key restored from a backup or copied between machines may have
		// come back readable by others, who could then sign credential
		// files users trust: it is made the owner's alone again.
		if err := home.RestrictFile(path); err != nil {
			return nil, false, fmt.Errorf("restrict signing key %s to its owner: %w", path, err)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read signing key: %w", err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, false, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, false, err
	}
	if err := home.WriteSecretFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})); err != nil {
		return nil, false, fmt.Errorf("save signing key: %w", err)
	}
	return priv, true, nil
}

func parseSigningKey(b []byte) (ed25519.PrivateKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("not an Ed25519 key")
	}
	return priv, nil
}

// Fingerprint names a signing key the way OpenSSH does:
// "SHA256:" + unpadded base64 of the SHA-256 of the public key.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// MalformedTrustError: a fingerprint given to pin a signer (--trust) is
// not shaped like one.
type MalformedTrustError struct{ Value string }

func (e *MalformedTrustError) Error() string {
	v := e.Value
	if len(v) > 80 {
		v = v[:80] + "…"
	}
	return fmt.Sprintf("--trust %q is malformed: a fingerprint is SHA256: followed by 43 base64 characters, exactly as 'credentials import' and 'credentials create' print it", v)
}

// ExitCode: a typo on the command line.
func (e *MalformedTrustError) ExitCode() int { return 2 }

// CheckFingerprint returns a *MalformedTrustError unless s is a key
// fingerprint as users type them ("SHA256:" optional, padding optional).
func CheckFingerprint(s string) error {
	t := strings.TrimSpace(s)
	if len(t) >= 7 && strings.EqualFold(t[:7], "SHA256:") {
		t = t[7:]
	}
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(t, "="))
	if err != nil || len(b) != sha256.Size {
		return &MalformedTrustError{Value: s}
	}
	return nil
}

// SameFingerprint compares fingerprints as users type them: the "SHA256:"
// prefix and base64 padding are optional.
func SameFingerprint(a, b string) bool {
	norm := func(s string) string {
		s = strings.TrimSpace(s)
		if len(s) >= 7 && strings.EqualFold(s[:7], "SHA256:") {
			s = s[7:]
		}
		return strings.TrimRight(s, "=")
	}
	return norm(a) != "" && norm(a) == norm(b)
}

// Argon2Params are the Argon2id cost settings, stored in the header.
type Argon2Params struct {
	Time      uint32 `json:"t"`
	MemoryKiB uint32 `json:"m"`
	Threads   uint8  `json:"p"`
}

// DefaultArgon2 is RFC 9106's second recommended setting (64 MiB, 3
// passes, 4 lanes): a fraction of a second once per import.
var DefaultArgon2 = Argon2Params{Time: 3, MemoryKiB: 64 * 1024, Threads: 4}

// check bounds what a file may ask of the machine opening it.
func (p Argon2Params) check() error {
	if p.Time < 1 || p.Time > 16 || p.Threads < 1 || p.Threads > 64 ||
		p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > 1<<20 {
		return fmt.Errorf("argon2id settings out of range (t=%d m=%d KiB p=%d)", p.Time, p.MemoryKiB, p.Threads)
	}
	return nil
}

func (p Argon2Params) key(passphrase, salt []byte) []byte {
	return argon2.IDKey(passphrase, salt, p.Time, p.MemoryKiB, p.Threads, chacha20poly1305.KeySize)
}

// builtinKey encrypts files made without a passphrase. It is in every copy
// of the program, so it only keeps the client ID and secret from casual
// eyes: anyone who has bluemoon can decrypt such a file. That is by design
// (users import the file without knowing a secret); the passphrase mode is
// for when that is not enough.
var builtinKey = func() []byte {
	sum := sha256.Sum256([]byte("bluemoon credential file built-in key, format 1: obfuscation, not secrecy"))
	return sum[:]
}()
