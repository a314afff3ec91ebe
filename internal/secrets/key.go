package secrets

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"github.com/zalando/go-keyring"

	"github.com/bluemoon-mail/bluemoon/internal/home"
)

// KeyringEnv chooses where the encryption key is kept: "on" (OS keyring),
// "off" (0600 key file). Unset: the keyring on Windows and macOS, the key
// file on Linux, where the Secret Service is usually absent from cron jobs
// and headless servers — a key only reachable in a desktop session would
// stop every unattended delivery.
const KeyringEnv = "BLUEMOON_KEYRING"

const keyringService = "bluemoon"

func wantKeyring() bool {
	switch strings.ToLower(os.Getenv(KeyringEnv)) {
	case "on", "1", "true", "yes":
		return true
	case "off", "0", "false", "no":
		return false
	}
	return runtime.GOOS == "windows" || runtime.GOOS == "darwin"
}

// loadKey finds the store's key where the marker file says it lives, or
// creates one on first use.
func loadKey(dir string) ([]byte, string, error) {
	// Two processes opening a new home at once would each make a key, and
	// the secrets stored with the losing one could never be read again:
	// the first use is serialised by a lock file beside the key.
	fl := flock.New(filepath.Join(dir, "key.lock"))
	if err := fl.Lock(); err != nil {
		return nil, "", fmt.Errorf("lock the secrets key in %s: %w", dir, err)
	}
	defer fl.Unlock()
	marker := filepath.Join(dir, "backend")
	keyFile := filepath.Join(dir, "master.key")
	user := "master-key:" + dir
	b, err := os.ReadFile(marker)
	switch {
	case err == nil:
		switch strings.TrimSpace(string(b)) {
		case "keyring":
			k, err := keyringGet(user)
			if err != nil {
				return nil, "", fmt.Errorf("the secrets in %s are protected by the OS keyring, which does not answer here (%v); "+
					"run bluemoon in your desktop session, or sign in again after removing %s", dir, err, dir)
			}
			return k, "keyring", nil
		default:
			k, err := readKeyFile(keyFile)
			return k, "file", err
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, "", err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, "", err
	}
	backend := "file"
	if wantKeyring() {
		if err := keyringSet(user, key); err == nil {
			backend = "keyring"
		}
	}
	if backend == "file" {
		if err := home.WriteSecretFile(keyFile, []byte(hex.EncodeToString(key))); err != nil {
			return nil, "", err
		}
	}
	if err := home.WriteFileAtomic(marker, []byte(backend+"\n"), 0o600); err != nil {
		return nil, "", err
	}
	return key, backend, nil
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read secrets key %s: %w", path, err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("secrets key %s is damaged", path)
	}
	// It decrypts every token and password: one restored from a backup
	// readable by others is made the owner's alone again.
	if err := home.RestrictFile(path); err != nil {
		return nil, fmt.Errorf("restrict secrets key %s to its owner: %w", path, err)
	}
	return k, nil
}

// keyring calls can hang when a desktop keyring waits for an unlock
// prompt; a timeout turns that into an error.
func keyringGet(user string) ([]byte, error) {
	var s string
	err := withTimeout(func() (err error) { s, err = keyring.Get(keyringService, user); return })
	if err != nil {
		return nil, err
	}
	k, err := hex.DecodeString(s)
	if err != nil || len(k) != 32 {
		return nil, errors.New("key in the keyring is damaged")
	}
	return k, nil
}

func keyringSet(user string, key []byte) error {
	return withTimeout(func() error { return keyring.Set(keyringService, user, hex.EncodeToString(key)) })
}

func withTimeout(f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(3 * time.Second):
		return errors.New("the OS keyring did not answer within 3 s")
	}
}
