package core

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/credfile"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

func init() {
	// The default Argon2id settings (64 MiB, 3 passes) take seconds under
	// -race on a shared machine; credfile's TestDefaultArgon2 covers them.
	credfile.DefaultArgon2 = credfile.Argon2Params{Time: 1, MemoryKiB: 8 * 1024, Threads: 1}
}

// newService opens a Service on a fresh home whose secrets key stays in a
// file, as on a headless machine.
func newService(t *testing.T, opts Options) *Service {
	t.Helper()
	t.Setenv(secrets.KeyringEnv, "off")
	if opts.Home == "" {
		opts.Home = t.TempDir()
	}
	svc, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return svc
}

// wantField fails unless err is a *FieldError for field with exit code 2.
func wantField(t *testing.T, err error, field string) *FieldError {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != field || exitcode.For(err) != exitcode.Usage {
		t.Fatalf("want a FieldError for %q (exit 2), got %T %v", field, err, err)
	}
	return fe
}

// wantNotFound fails unless err says kind/name does not exist (exit 2).
func wantNotFound(t *testing.T, err error, kind string) {
	t.Helper()
	var nf *NotFoundError
	if !errors.Is(err, ErrNotFound) || !errors.As(err, &nf) || nf.Kind != kind || exitcode.For(err) != exitcode.Usage {
		t.Fatalf("want a %s NotFoundError (exit 2), got %T %v", kind, err, err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
