// Package account holds sender accounts: the mailbox a delivery leaves
// from, its SMTP server, how it authenticates and its sending limits.
package account

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// Security is how the SMTP connection is protected.
type Security string

const (
	SecurityTLS      Security = "tls"      // implicit TLS (port 465)
	SecurityStartTLS Security = "starttls" // STARTTLS required (port 587)
	SecurityNone     Security = "none"     // plain text: only for a local relay
)

// AuthMethod is how the account authenticates to the SMTP server.
type AuthMethod string

const (
	AuthXOAuth2 AuthMethod = "xoauth2"
	AuthPlain   AuthMethod = "plain"
	AuthLogin   AuthMethod = "login"
	AuthNone    AuthMethod = "none"
)

// Via is the way an account hands its messages to the provider.
type Via string

const (
	// ViaSMTP submits over SMTP (the default): any provider.
	ViaSMTP Via = "smtp"
	// ViaGraph sends with Microsoft Graph's sendMail (Microsoft 365
	// mailboxes whose tenant keeps SMTP AUTH off).
	ViaGraph Via = "graph"
	// ViaGmailAPI sends with the Gmail API's users.messages.send (Google
	// accounts whose administrator blocks SMTP).
	ViaGmailAPI Via = "gmail-api"
)

// ParseVia accepts a way of sending, case-insensitively; "" is smtp.
func ParseVia(s string) (Via, error) {
	switch v := Via(strings.ToLower(strings.TrimSpace(s))); v {
	case "":
		return ViaSMTP, nil
	case ViaSMTP, ViaGraph, ViaGmailAPI:
		return v, nil
	}
	return "", fmt.Errorf("--via %q: use smtp, graph (Microsoft 365) or gmail-api (Google)", s)
}

// API reports whether v sends through a provider's HTTPS API.
func (v Via) API() bool { return v == ViaGraph || v == ViaGmailAPI }

// Provider is the only provider v works with ("" for smtp: any).
func (v Via) Provider() provider.Kind {
	switch v {
	case ViaGraph:
		return provider.Microsoft
	case ViaGmailAPI:
		return provider.Google
	}
	return ""
}

// Account is one sender mailbox.
type Account struct {
	Name          string     `json:"name"`
	From          string     `json:"from"`
	FromName      string     `json:"from_name,omitempty"`
	SMTPHost      string     `json:"smtp_host"`
	SMTPPort      int        `json:"smtp_port"`
	Security      Security   `json:"security"`
	Auth          AuthMethod `json:"auth"`
	Credentials   string     `json:"credentials,omitempty"` // name of an imported credential file (xoauth2)
	Username      string     `json:"username,omitempty"`    // SMTP user; defaults to From
	ClientCert    string     `json:"client_cert,omitempty"` // PEM file of a TLS client certificate
	ClientKey     string     `json:"client_key,omitempty"`
	CAFile        string     `json:"ca_file,omitempty"`   // extra CA bundle to trust
	ConfirmReauth bool       `json:"confirm_reauth"`      // ask before opening a re-sign-in (確認メッセージの表示)
	Signature     string     `json:"signature,omitempty"` // 署名: plain text a message may end with
	// Via is how messages leave: SMTP, or the provider's HTTPS API when
	// the tenant or domain keeps SMTP AUTH off. The SMTP settings are kept
	// either way, so switching back needs nothing re-typed.
	Via       Via             `json:"via"`
	Limits    provider.Limits `json:"limits"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
}

// SMTPAddr is host:port of the account's server.
func (a *Account) SMTPAddr() string { return net.JoinHostPort(a.SMTPHost, strconv.Itoa(a.SMTPPort)) }

// SendsTo names where the account's messages go: its SMTP server's
// host:port, or the provider's API.
func (a *Account) SendsTo() string {
	switch a.SendsVia() {
	case ViaGraph:
		return "Microsoft Graph"
	case ViaGmailAPI:
		return "the Gmail API"
	}
	return a.SMTPAddr()
}

// SendsVia is a.Via, smtp when unset (accounts stored before it existed).
func (a *Account) SendsVia() Via {
	if a.Via == "" {
		return ViaSMTP
	}
	return a.Via
}

// LoginName is the SMTP user name: Username, else the From address.
func (a *Account) LoginName() string {
	if a.Username != "" {
		return a.Username
	}
	return a.From
}

// ErrNotFound is returned when no account has the given name.
var ErrNotFound = errors.New("no such account")

// FieldError names the setting of an account that is wrong: Field is the
// setting's stable name (from, from_name, smtp_host, security, auth,
// credentials, client_cert, via, name), for a form to point at it.
type FieldError struct {
	Field   string
	Message string
	Err     error // the cause, when there is one (a *message.HeaderTextError)
}

func (e *FieldError) Error() string { return e.Message }
func (e *FieldError) Unwrap() error { return e.Err }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// Validate checks the fields a user types, naming the one that is wrong
// with a *FieldError.
func (a *Account) Validate() error {
	if strings.TrimSpace(a.Name) == "" {
		return invalid("name", "account name is empty")
	}
	if _, err := mail.ParseAddress(a.From); err != nil || strings.ContainsAny(a.From, "<> ") {
		return invalid("from", "--from %q is not an e-mail address", a.From)
	}
	if err := message.CheckHeaderText("--from-name", a.FromName); err != nil {
		return &FieldError{Field: "from_name", Message: err.Error(), Err: err}
	}
	if a.SMTPHost == "" || a.SMTPPort <= 0 || a.SMTPPort > 65535 {
		return invalid("smtp_host", "--smtp must be HOST:PORT (got %q)", a.SMTPAddr())
	}
	switch a.Security {
	case SecurityTLS, SecurityStartTLS, SecurityNone:
	default:
		return invalid("security", "--security %q: use tls, starttls or none", a.Security)
	}
	switch a.Auth {
	case AuthXOAuth2:
		if a.Credentials == "" {
			return invalid("credentials", "--auth xoauth2 needs --credentials NAME (an imported credential file)")
		}
	case AuthPlain, AuthLogin, AuthNone:
	default:
		return invalid("auth", "--auth %q: use xoauth2, plain, login or none", a.Auth)
	}
	if (a.ClientCert == "") != (a.ClientKey == "") {
		return invalid("client_cert", "--client-cert and --client-key go together")
	}
	via, err := ParseVia(string(a.Via))
	if err != nil {
		return &FieldError{Field: "via", Message: err.Error()}
	}
	if via.API() && a.Auth != AuthXOAuth2 {
		return invalid("via", "--via %s signs in with OAuth: it needs --auth xoauth2 and --credentials NAME of a %s credential file", via, via.Provider())
	}
	return nil
}

// Store reads and writes accounts in the database.
type Store struct{ DB *sql.DB }

const columns = `name, from_addr, from_name, smtp_host, smtp_port, security, auth, credentials,
	username, client_cert, client_key, ca_file, confirm_reauth, limits_json, created_at, updated_at, via, signature`

func scan(row interface{ Scan(...any) error }) (*Account, error) {
	var a Account
	var limits, created, updated string
	err := row.Scan(&a.Name, &a.From, &a.FromName, &a.SMTPHost, &a.SMTPPort, &a.Security, &a.Auth,
		&a.Credentials, &a.Username, &a.ClientCert, &a.ClientKey, &a.CAFile, &a.ConfirmReauth,
		&limits, &created, &updated, &a.Via, &a.Signature)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(limits), &a.Limits); err != nil {
		return nil, fmt.Errorf("account %s: limits: %w", a.Name, err)
	}
	a.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	a.UpdatedAt, _ = time.Parse(time.RFC3339Nano, updated)
	return &a, nil
}

// Get returns the named account, or an error wrapping ErrNotFound.
func (s *Store) Get(ctx context.Context, name string) (*Account, error) {
	a, err := scan(s.DB.QueryRowContext(ctx, `SELECT `+columns+` FROM accounts WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("account %q: %w (see 'bluemoon account list')", name, ErrNotFound)
	}
	return a, err
}

// List returns every account, by name.
func (s *Store) List(ctx context.Context) ([]*Account, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT `+columns+` FROM accounts ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Account
	for rows.Next() {
		a, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Put inserts or replaces a after validating it.
func (s *Store) Put(ctx context.Context, a *Account) error {
	if err := a.Validate(); err != nil {
		return err
	}
	limits, err := json.Marshal(a.Limits)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now
	}
	a.UpdatedAt = now
	_, err = s.DB.ExecContext(ctx, `INSERT OR REPLACE INTO accounts (`+columns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Name, a.From, a.FromName, a.SMTPHost, a.SMTPPort, a.Security, a.Auth, a.Credentials,
		a.Username, a.ClientCert, a.ClientKey, a.CAFile, a.ConfirmReauth, string(limits),
		a.CreatedAt.Format(time.RFC3339Nano), a.UpdatedAt.Format(time.RFC3339Nano), a.SendsVia(), a.Signature)
	if err != nil {
		return fmt.Errorf("save account %s: %w", a.Name, err)
	}
	return nil
}

// Remove deletes the named account.
func (s *Store) Remove(ctx context.Context, name string) error {
	return s.RemoveIf(ctx, name, nil)
}

// RemoveIf deletes the named account unless check, called in the same
// transaction after the deletion (so that no other writer can come
// between them), returns an error, which RemoveIf returns with the
// account kept.
func (s *Store) RemoveIf(ctx context.Context, name string, check func(context.Context, *sql.Tx) error) error {
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE name = ?`, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("account %q: %w", name, ErrNotFound)
	}
	if check != nil {
		if err := check(ctx, tx); err != nil {
			return err
		}
	}
	return tx.Commit()
}
