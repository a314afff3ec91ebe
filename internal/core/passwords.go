package core

import (
	"errors"
	"fmt"

	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

// SMTP passwords live in the secrets store beside the tokens, never in
// the database: storage (internal/account, internal/store) knows nothing
// of secrets or sign-ins, and this is where the two meet.

// ErrNoPassword is returned by Password when none is stored.
var ErrNoPassword = errors.New("no SMTP password stored")

// PasswordSecret is the secrets-store name of an account's SMTP password.
func PasswordSecret(account string) string { return "password:" + account }

// TokenSecret is the secrets-store name of an account's OAuth tokens
// (written by the sign-in code; removed with the account). The name is
// package oauth's: the account's removal must lock and delete the very
// file a sign-in or a refresh writes.
func TokenSecret(account string) string { return oauth.SecretName(account) }

// Password returns the SMTP password of the named account (--auth plain or
// login), or an error wrapping ErrNoPassword.
func Password(sec *secrets.Store, account string) (string, error) {
	b, err := sec.Get(PasswordSecret(account))
	if errors.Is(err, secrets.ErrNotFound) {
		return "", fmt.Errorf("account %s: %w: set one with 'bluemoon account edit %s --password-file FILE'", account, ErrNoPassword, account)
	}
	if err != nil {
		return "", fmt.Errorf("account %s: password: %w", account, err)
	}
	return string(b), nil
}

// SetPassword stores the SMTP password of the named account.
func SetPassword(sec *secrets.Store, account, password string) error {
	return sec.Put(PasswordSecret(account), []byte(password))
}

// HasPassword reports whether a password is stored, without returning it.
func HasPassword(sec *secrets.Store, account string) (bool, error) {
	_, err := sec.Get(PasswordSecret(account))
	if errors.Is(err, secrets.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
