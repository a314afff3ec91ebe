package core

import (
	"errors"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

func TestPassword(t *testing.T) {
	t.Setenv(secrets.KeyringEnv, "off")
	sec, err := secrets.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Password(sec, "relay")
	if !errors.Is(err, ErrNoPassword) || !strings.Contains(err.Error(), "--password-file") {
		t.Fatalf("no password: %v", err)
	}
	if has, err := HasPassword(sec, "relay"); has || err != nil {
		t.Fatalf("HasPassword before set: %v %v", has, err)
	}
	if err := SetPassword(sec, "relay", "hunter2"); err != nil {
		t.Fatal(err)
	}
	if pw, err := Password(sec, "relay"); pw != "hunter2" || err != nil {
		t.Fatalf("Password = %q, %v", pw, err)
	}
	if has, _ := HasPassword(sec, "relay"); !has {
		t.Fatal("HasPassword after set")
	}
	if pw, _ := Password(sec, "other"); pw != "" {
		t.Fatal("another account's password leaked")
	}
}
