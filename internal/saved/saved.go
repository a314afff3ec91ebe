// Package saved keeps saved deliveries: everything `bluemoon send` needs
// (account, list, template files, options) under a name, so that a timer or
// cron job runs a delivery with one short, quote-free line: `bluemoon run NAME`.
package saved

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/fileerr"
)

// Delivery is a saved delivery. File paths are absolute: cron and Task
// Scheduler start programs in another folder than the one it was saved from.
type Delivery struct {
	Name        string       `json:"name"`
	Account     string       `json:"account"`
	Recipients  string       `json:"recipients"`
	Subject     string       `json:"subject"`
	Text        string       `json:"text,omitempty"`
	HTML        string       `json:"html,omitempty"`
	Attach      []string     `json:"attach,omitempty"`
	Charset     string       `json:"charset,omitempty"`
	EmailColumn string       `json:"email_column,omitempty"`
	Encoding    string       `json:"encoding,omitempty"`
	SkipInvalid bool         `json:"skip_invalid,omitempty"`
	SendArgs    []string     `json:"send_args,omitempty"` // further `send` flags, given after "--"
	Alert       alert.Config `json:"alert"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// Validate checks the fields a user typed, naming the flag that is wrong.
// Missing files are errors: a saved delivery is run later by nobody who
// could fix a typo then.
func (d *Delivery) Validate() error {
	if strings.TrimSpace(d.Name) == "" || strings.ContainsAny(d.Name, " \t\n/\\") {
		return fmt.Errorf("saved delivery name %q: use letters, digits, '-' or '_' (it goes on a cron line)", d.Name)
	}
	if d.Account == "" {
		return errors.New("--account is required")
	}
	if d.Recipients == "" {
		return errors.New("--recipients FILE is required")
	}
	if d.Subject == "" {
		return errors.New("--subject is required")
	}
	if d.Text == "" && d.HTML == "" {
		return errors.New("give --text FILE or --html FILE (or both)")
	}
	switch strings.ToLower(d.Charset) {
	case "", "utf-8", "utf8", "iso-2022-jp":
	default:
		return fmt.Errorf("--charset %q: use utf-8 or iso-2022-jp", d.Charset)
	}
	for _, f := range d.files() {
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("%s: %w", f.flag, fileerr.Explain(err))
		}
	}
	return d.Alert.Validate()
}

type fileRef struct{ flag, path string }

func (d *Delivery) files() []fileRef {
	fs := []fileRef{{"--recipients", d.Recipients}}
	if d.Text != "" {
		fs = append(fs, fileRef{"--text", d.Text})
	}
	if d.HTML != "" {
		fs = append(fs, fileRef{"--html", d.HTML})
	}
	for _, a := range d.Attach {
		fs = append(fs, fileRef{"--attach", a})
	}
	return fs
}

// Absolutize makes every file path absolute, relative to the current folder.
func (d *Delivery) Absolutize() error {
	abs := func(p *string) error {
		if *p == "" {
			return nil
		}
		a, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = a
		return nil
	}
	for _, p := range []*string{&d.Recipients, &d.Text, &d.HTML} {
		if err := abs(p); err != nil {
			return err
		}
	}
	for i := range d.Attach {
		if err := abs(&d.Attach[i]); err != nil {
			return err
		}
	}
	return nil
}

// Args is the `bluemoon send` command line that performs this delivery.
func (d *Delivery) Args() []string {
	a := []string{"send", "--account", d.Account, "--recipients", d.Recipients, "--subject", d.Subject}
	if d.Text != "" {
		a = append(a, "--text", d.Text)
	}
	if d.HTML != "" {
		a = append(a, "--html", d.HTML)
	}
	for _, f := range d.Attach {
		a = append(a, "--attach", f)
	}
	if d.Charset != "" {
		a = append(a, "--charset", d.Charset)
	}
	if d.EmailColumn != "" {
		a = append(a, "--email-column", d.EmailColumn)
	}
	if d.Encoding != "" {
		a = append(a, "--encoding", d.Encoding)
	}
	if d.SkipInvalid {
		a = append(a, "--skip-invalid")
	}
	return append(a, d.SendArgs...)
}

// ErrNotFound is returned for a name with no saved delivery.
var ErrNotFound = errors.New("no such saved delivery")

// Store keeps saved deliveries in SQLite.
type Store struct{ DB *sql.DB }

// Put saves d, replacing a delivery of the same name.
func (s *Store) Put(ctx context.Context, d *Delivery) error {
	if err := d.Validate(); err != nil {
		return err
	}
	now := time.Now().UTC()
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	d.UpdatedAt = now
	doc, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = s.DB.ExecContext(ctx, `INSERT INTO saved_deliveries (name, doc, updated_at) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at`,
		d.Name, string(doc), now.Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("save delivery %s: %w", d.Name, err)
	}
	return nil
}

// Get returns the named saved delivery.
func (s *Store) Get(ctx context.Context, name string) (*Delivery, error) {
	var doc string
	err := s.DB.QueryRowContext(ctx, `SELECT doc FROM saved_deliveries WHERE name = ?`, name).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("saved delivery %q: %w (see 'bluemoon deliveries saved')", name, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var d Delivery
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, fmt.Errorf("saved delivery %s is damaged: %w", name, err)
	}
	return &d, nil
}

// List returns every saved delivery by name.
func (s *Store) List(ctx context.Context) ([]*Delivery, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT name, doc FROM saved_deliveries ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Delivery
	for rows.Next() {
		var name, doc string
		if err := rows.Scan(&name, &doc); err != nil {
			return nil, err
		}
		var d Delivery
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, fmt.Errorf("saved delivery %s is damaged: %w", name, err)
		}
		out = append(out, &d)
	}
	return out, rows.Err()
}

// Remove deletes the named saved delivery.
func (s *Store) Remove(ctx context.Context, name string) error {
	res, err := s.DB.ExecContext(ctx, `DELETE FROM saved_deliveries WHERE name = ?`, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("saved delivery %q: %w", name, ErrNotFound)
	}
	return nil
}

// Quote shows a command line a person can paste into a POSIX shell.
func Quote(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a != "" && !strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}
