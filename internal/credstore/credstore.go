// Package credstore keeps imported credential files: the OAuth settings in
// the database's credentials table and the client secret, apart, in the
// encrypted secrets store under "client-secret:<name>".
package credstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

// ErrNotFound is returned when no credentials have the given name.
var ErrNotFound = errors.New("no such credentials")

// ErrExists is returned by Import when the name is taken and Replace is off.
var ErrExists = errors.New("credentials already exist")

// InUseError is returned by Remove while sender accounts still use the
// credentials: removing them would break those accounts' sign-ins.
type InUseError struct {
	Name     string
	Accounts []string
}

func (e *InUseError) Error() string {
	return fmt.Sprintf("credentials %q are used by account(s) %s: remove or edit those accounts first",
		e.Name, strings.Join(e.Accounts, ", "))
}

// SecretName is the secrets-store name of a credential's client secret.
func SecretName(name string) string { return "client-secret:" + name }

// Credential is one imported credential file as listed and shown: the
// client secret is never part of it, only whether one is stored.
type Credential struct {
	Name       string          `json:"name"`
	Provider   provider.Kind   `json:"provider"`
	Config     provider.Config `json:"config"` // ClientSecret always empty
	HasSecret  bool            `json:"client_secret_set"`
	Signer     string          `json:"signer"` // fingerprint of the file's signing key
	ImportedAt time.Time       `json:"imported_at"`
}

// Store reads and writes imported credentials.
type Store struct {
	DB      *sql.DB
	Secrets *secrets.Store
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidateName checks a credentials name: letters, digits, '.', '_' and
// '-', starting with a letter or digit, at most 64 characters.
func ValidateName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("credentials name %q: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// ImportOptions controls Import.
type ImportOptions struct {
	Signer  string // fingerprint of the file's signer, kept for show
	Replace bool   // overwrite credentials of the same name
}

// Import stores cfg under name: the settings in the database, the client
// secret (if any) in the secrets store. Either both are saved or neither.
func (s *Store) Import(ctx context.Context, name string, cfg provider.Config, opt ImportOptions) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("credentials %s: %w", name, err)
	}
	secret := cfg.ClientSecret
	cfg.ClientSecret = ""
	body, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var exists int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM credentials WHERE name = ?`, name).Scan(&exists); err != nil {
		return err
	}
	if exists > 0 && !opt.Replace {
		return fmt.Errorf("credentials %q: %w (import with another --name, or --replace)", name, ErrExists)
	}
	_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO credentials (name, provider, config_json, signer, imported_at)
		VALUES (?, ?, ?, ?, ?)`, name, string(cfg.Provider), string(body), opt.Signer,
		time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("save credentials %s: %w", name, err)
	}
	// The secret is written inside the transaction so that a failure here
	// leaves no row without its secret; a failed commit puts back the
	// secret of the row it rolled back (none for a new name).
	prev, err := s.Secrets.Get(SecretName(name))
	if err != nil && !errors.Is(err, secrets.ErrNotFound) {
		return err
	}
	if err := s.putSecret(name, secret); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		s.putSecret(name, string(prev))
		return fmt.Errorf("save credentials %s: %w", name, err)
	}
	return nil
}

// putSecret stores the client secret of name, or removes it when empty.
func (s *Store) putSecret(name, secret string) error {
	if secret == "" {
		return s.Secrets.Delete(SecretName(name))
	}
	return s.Secrets.Put(SecretName(name), []byte(secret))
}

const columns = `name, provider, config_json, signer, imported_at`

// scan reads one row; HasSecret is left for hasSecret, so that Config and
// Remove, which do not report it, read no secret file for it.
func scan(row interface{ Scan(...any) error }) (*Credential, error) {
	var c Credential
	var body, imported string
	if err := row.Scan(&c.Name, &c.Provider, &body, &c.Signer, &imported); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(body), &c.Config); err != nil {
		return nil, fmt.Errorf("credentials %s: stored settings unreadable: %w", c.Name, err)
	}
	c.Config.ClientSecret = ""
	c.ImportedAt, _ = time.Parse(time.RFC3339Nano, imported)
	return &c, nil
}

// hasSecret sets c.HasSecret from the secrets store.
func (s *Store) hasSecret(c *Credential) error {
	_, err := s.Secrets.Get(SecretName(c.Name))
	switch {
	case err == nil:
		c.HasSecret = true
	case !errors.Is(err, secrets.ErrNotFound):
		return err
	}
	return nil
}

// get returns the named credentials' row, without looking at the secret.
func (s *Store) get(ctx context.Context, name string) (*Credential, error) {
	c, err := scan(s.DB.QueryRowContext(ctx, `SELECT `+columns+` FROM credentials WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("credentials %q: %w (see 'bluemoon credentials list')", name, ErrNotFound)
	}
	return c, err
}

// Get returns the named credentials without the secret.
func (s *Store) Get(ctx context.Context, name string) (*Credential, error) {
	c, err := s.get(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := s.hasSecret(c); err != nil {
		return nil, err
	}
	return c, nil
}

// List returns every imported credential, by name.
func (s *Store) List(ctx context.Context) ([]*Credential, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT `+columns+` FROM credentials ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Credential
	for rows.Next() {
		c, err := scan(rows)
		if err != nil {
			return nil, err
		}
		if err := s.hasSecret(c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Config returns the full settings of the named credentials, the client
// secret included, for a sign-in or a token refresh.
func (s *Store) Config(ctx context.Context, name string) (provider.Config, error) {
	c, err := s.get(ctx, name)
	if err != nil {
		return provider.Config{}, err
	}
	cfg := c.Config
	secret, err := s.Secrets.Get(SecretName(name))
	switch {
	case err == nil:
		cfg.ClientSecret = string(secret)
	case !errors.Is(err, secrets.ErrNotFound):
		return provider.Config{}, fmt.Errorf("credentials %s: client secret: %w", name, err)
	}
	return cfg, nil
}

// Remove deletes the named credentials and their secret. It refuses while
// accounts use them.
func (s *Store) Remove(ctx context.Context, name string) error {
	if _, err := s.get(ctx, name); err != nil {
		return err
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT name FROM accounts WHERE credentials = ? ORDER BY name`, name)
	if err != nil {
		return err
	}
	var users []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return err
		}
		users = append(users, a)
	}
	rows.Close()
	if len(users) > 0 {
		return &InUseError{Name: name, Accounts: users}
	}
	if _, err := s.DB.ExecContext(ctx, `DELETE FROM credentials WHERE name = ?`, name); err != nil {
		return fmt.Errorf("remove credentials %s: %w", name, err)
	}
	return s.Secrets.Delete(SecretName(name))
}
