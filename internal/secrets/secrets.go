// Package secrets keeps tokens, passwords and client secrets: each in its own
// file under <home>/secrets, encrypted with XChaCha20-Poly1305, written
// atomically with mode 0600. The encryption key lives in the OS keyring
// where one is chosen and answers, else in a 0600 key file beside them.
package secrets

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/bluemoon-mail/bluemoon/internal/home"
)

// ErrNotFound is returned by Get for a name never stored (or deleted).
var ErrNotFound = errors.New("secret not found")

// Store is an encrypted, lockable secret store in one data home.
type Store struct {
	dir     string
	key     []byte
	Backend string // "keyring" or "file": where the encryption key is kept
}

// Open opens (creating if needed) the store in the data home homeDir.
func Open(homeDir string) (*Store, error) {
	dir := filepath.Join(homeDir, "secrets")
	if err := home.Ensure(dir); err != nil {
		return nil, err
	}
	key, backend, err := loadKey(dir)
	if err != nil {
		return nil, err
	}
	return &Store{dir: dir, key: key, Backend: backend}, nil
}

func (s *Store) path(name string) string {
	// hex keeps any account name a valid file name on every OS.
	return filepath.Join(s.dir, hex.EncodeToString([]byte(name))+".sec")
}

// Get returns the secret stored under name.
func (s *Store) Get(name string) ([]byte, error) {
	blob, err := os.ReadFile(s.path(name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read secret %s: %w", name, err)
	}
	aead, err := chacha20poly1305.NewX(s.key)
	if err != nil {
		return nil, err
	}
	if len(blob) < aead.NonceSize() {
		return nil, fmt.Errorf("secret %s is damaged (file too short); store it again", name)
	}
	nonce, ct := blob[:aead.NonceSize()], blob[aead.NonceSize():]
	pt, err := aead.Open(nil, nonce, ct, []byte(name))
	if err != nil {
		return nil, fmt.Errorf("secret %s cannot be decrypted (damaged, or the key in %s changed); store it again", name, s.Backend)
	}
	return pt, nil
}

// Put stores val under name, atomically and 0600.
func (s *Store) Put(name string, val []byte) error {
	aead, err := chacha20poly1305.NewX(s.key)
	if err != nil {
		return err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(val)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	blob := aead.Seal(nonce, nonce, val, []byte(name))
	if err := home.WriteSecretFile(s.path(name), blob); err != nil {
		return fmt.Errorf("store secret %s: %w", name, err)
	}
	return nil
}

// Delete removes name; deleting a missing secret is not an error.
func (s *Store) Delete(name string) error {
	err := os.Remove(s.path(name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete secret %s: %w", name, err)
	}
	return nil
}

// Lock takes an exclusive lock on name that holds across processes (and
// across goroutines of one process), for read-modify-write cycles such as a
// token refresh that rotates the refresh token. Call unlock when done.
func (s *Store) Lock(ctx context.Context, name string) (unlock func(), err error) {
	fl := flock.New(s.path(name) + ".lock")
	ok, err := fl.TryLockContext(ctx, 25*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("lock secret %s: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("lock secret %s: %w", name, ctx.Err())
	}
	return func() { fl.Unlock() }, nil
}
