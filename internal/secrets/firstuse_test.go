package secrets

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Two processes opening a new home at the same moment (serve and a cron job
// on a fresh machine) must agree on one key: a secret one of them stored
// must stay readable by every later process.
func TestConcurrentFirstOpenAgreesOnOneKey(t *testing.T) {
	t.Setenv(KeyringEnv, "off")
	for round := 0; round < 20; round++ {
		dir := t.TempDir()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				s, err := Open(dir)
				if err == nil {
					err = s.Put(fmt.Sprintf("password:a%d", i), []byte("pw"))
				}
				if err != nil {
					errs <- err
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 8; i++ {
			if _, err := s.Get(fmt.Sprintf("password:a%d", i)); err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
	}
}

// The key file decrypts every secret: found readable by others (restored
// from a backup), it is made the owner's alone when the store opens.
func TestKeyFileReadableByOthersIsTightened(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	t.Setenv(KeyringEnv, "off")
	home := t.TempDir()
	if _, err := Open(home); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(home, "secrets", "master.key")
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(home); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(key)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %o, want 600", fi.Mode().Perm())
	}
}
