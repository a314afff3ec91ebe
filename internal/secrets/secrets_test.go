package secrets

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

func TestPutGetDeleteAndModes(t *testing.T) {
	t.Setenv(KeyringEnv, "off")
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("refresh-token-value-1234567890")
	if err := s.Put("token:alice", secret); err != nil {
		t.Fatal(err)
	}
	// A second Store (another process) reads it with the same key.
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s2.Get("token:alice")
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Get = %q, %v", got, err)
	}
	// The plaintext never sits on disk.
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, secret) {
			t.Errorf("%s holds the secret in clear", p)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
		}
		return nil
	})
	if err := s.Delete("token:alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("token:alice"); err != ErrNotFound {
		t.Fatalf("after Delete: %v, want ErrNotFound", err)
	}
}

func TestTamperedSecretIsRefused(t *testing.T) {
	t.Setenv(KeyringEnv, "off")
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s.Put("password:bob", []byte("hunter2"))
	p := s.path("password:bob")
	b, _ := os.ReadFile(p)
	b[len(b)-1] ^= 1
	os.WriteFile(p, b, 0o600)
	if _, err := s.Get("password:bob"); err == nil {
		t.Fatal("a modified secret file was accepted")
	}
}

func TestLockExcludes(t *testing.T) {
	t.Setenv(KeyringEnv, "off")
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var mu sync.Mutex
	inside := 0
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := s.Lock(ctx, "token:x")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside++
			if inside != 1 {
				t.Error("two holders of one lock")
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			mu.Lock()
			inside--
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	ctx2, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	unlock, _ := s.Lock(ctx, "token:y")
	if _, err := s.Lock(ctx2, "token:y"); err == nil {
		t.Fatal("lock taken twice")
	}
	unlock()
}
