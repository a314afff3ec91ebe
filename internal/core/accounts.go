package core

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/fileerr"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// AccountInput is the settings of a sender account. A nil field is not
// given: AddAccount fills it from the credentials' provider presets (or
// refuses when it is required), EditAccount leaves it as it is.
type AccountInput struct {
	From     *string // the sender address (required for add)
	FromName *string
	SMTPHost *string
	SMTPPort *int
	Security *string // tls, starttls or none (add: from the preset or the port)
	Auth     *string // xoauth2, plain, login or none
	// Credentials names imported credentials (xoauth2); their provider's
	// presets fill the server, security, auth and limits on add.
	Credentials *string
	// Provider is the provider the user chose the account to sign in with
	// (google, microsoft or generic; the console's 認証方式): credentials
	// of another provider are refused rather than saved under it.
	Provider *string
	Username *string // SMTP user (default: From)
	Password *string // SMTP password for plain / login; stored encrypted, never shown
	// TLS files: paths of PEM files, checked now and stored absolute; ""
	// removes (a ClientCert of "" without ClientKey removes both).
	ClientCert, ClientKey, CAFile *string
	ConfirmReauth                 *bool // ask before opening a re-sign-in (確認メッセージの表示)
	// Via is how messages leave: smtp (add's default), graph (Microsoft
	// credentials) or gmail-api (Google credentials). Changing it resets
	// the limits to the new way's preset (a Warning says so).
	Via *string
	// Limits; 0 is no limit. Add takes the provider's presets for those
	// not given.
	PerMinute, PerDay, Connections, PerConnection *int
	// Signature is the account's 署名, plain text a delivery's message may
	// end with (MessageInput.Signature); "" removes it.
	Signature *string
}

// MaxSignature bounds a signature, in bytes.
const MaxSignature = 8 << 10

// Ptr returns a pointer to v, for the optional fields of inputs.
func Ptr[T any](v T) *T { return &v }

// AccountChange is an account as added or edited.
type AccountChange struct {
	Account  *account.Account
	Warnings []Warning // settings that work but deserve a second look
}

// Warning is something worth telling a person that did not stop the call.
type Warning struct {
	Code    string // stable: "password_in_clear", "custom_endpoint", "new_signer", …
	Message string // English
}

var accountNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

// ValidateAccountName checks a new account's name.
func ValidateAccountName(name string) error {
	if !accountNameRE.MatchString(name) {
		return fieldErr("name", CodeInvalid, "account name %q: use 1-64 letters, digits, '.', '_', '-', '+' or '@', starting with a letter or digit", name)
	}
	return nil
}

// AddAccount adds a sender account.
func (s *Service) AddAccount(ctx context.Context, name string, in AccountInput) (*AccountChange, error) {
	if _, err := s.accounts().Get(ctx, name); err == nil {
		return nil, fieldErr("name", CodeExists, "account %q already exists: change it with 'bluemoon account edit %s'", name, name)
	}
	if err := ValidateAccountName(name); err != nil {
		return nil, err
	}
	a := &account.Account{Name: name, ConfirmReauth: true}
	return s.saveAccount(ctx, a, in, true)
}

// EditAccount changes the settings given in `in` of an account.
func (s *Service) EditAccount(ctx context.Context, name string, in AccountInput) (*AccountChange, error) {
	a, err := s.account(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.saveAccount(ctx, a, in, false)
}

func (s *Service) saveAccount(ctx context.Context, a *account.Account, in AccountInput, isAdd bool) (*AccountChange, error) {
	ch := &AccountChange{Account: a}
	if err := s.applyAccount(ctx, a, in, isAdd, ch, nil); err != nil {
		return nil, err
	}
	if err := s.accounts().Put(ctx, a); err != nil {
		var fe *account.FieldError
		if errors.As(err, &fe) {
			return nil, &FieldError{Field: fe.Field, Code: CodeInvalid, Message: fe.Message, Err: fe}
		}
		return nil, exitcode.Usagef("%w", err)
	}
	sec, err := s.secrets()
	if err != nil {
		return nil, err
	}
	// The password is stored once the account is; an account that no
	// longer uses one does not keep it.
	switch {
	case in.Password != nil:
		return ch, SetPassword(sec, a.Name, *in.Password)
	case !usesPassword(a.Auth):
		return ch, sec.Delete(PasswordSecret(a.Name))
	}
	return ch, nil
}

func usesPassword(m account.AuthMethod) bool { return m == account.AuthPlain || m == account.AuthLogin }

// incomingCredentials are credentials not stored yet, checked as if they
// were (ImportCredentialFileFor): a credential file's name and provider.
type incomingCredentials struct {
	name string
	kind provider.Kind
}

// applyAccount sets a's fields from in; add (isAdd) also fills what was
// not given from the credentials' provider presets. Credentials named as
// incoming (nil: none) are taken to be of its provider, not looked up.
func (s *Service) applyAccount(ctx context.Context, a *account.Account, in AccountInput, isAdd bool, ch *AccountChange, incoming *incomingCredentials) error {
	if isAdd && in.From == nil {
		return fieldErr("from", CodeRequired, "--from ADDRESS is required")
	}
	set(&a.From, in.From, strings.TrimSpace)
	set(&a.FromName, in.FromName, nil)
	set(&a.Username, in.Username, nil)
	if in.Signature != nil {
		if len(*in.Signature) > MaxSignature {
			return fieldErr("signature", "too_large", "the signature is %d bytes; keep it under %d", len(*in.Signature), MaxSignature)
		}
		a.Signature = strings.ReplaceAll(strings.TrimRight(*in.Signature, " \t\r\n"), "\r\n", "\n")
	}

	kind := provider.Generic
	set(&a.Credentials, in.Credentials, nil)
	if incoming != nil && a.Credentials == incoming.name {
		kind = incoming.kind
	} else if a.Credentials != "" {
		cs, err := s.credentials()
		if err != nil {
			return err
		}
		cr, err := cs.Get(ctx, a.Credentials)
		if errors.Is(err, credstore.ErrNotFound) {
			return fieldErr("credentials", CodeNotFound, "--credentials: %w", err)
		}
		if err != nil {
			return err
		}
		kind = cr.Provider
	}
	preset, hasPreset := provider.SMTPPresetFor(kind)

	smtpGiven := in.SMTPHost != nil || in.SMTPPort != nil
	switch {
	case smtpGiven:
		set(&a.SMTPHost, in.SMTPHost, strings.TrimSpace)
		if in.SMTPPort != nil {
			a.SMTPPort = *in.SMTPPort
		}
	case isAdd && hasPreset:
		a.SMTPHost, a.SMTPPort = preset.Host, preset.Port
	case isAdd:
		return fieldErr("smtp_host", CodeRequired, "--smtp HOST:PORT is required (or --credentials NAME of a google or microsoft file, which fills it in)")
	}

	switch {
	case in.Security != nil:
		a.Security = account.Security(strings.ToLower(*in.Security))
	case isAdd && hasPreset && !smtpGiven:
		a.Security = account.Security(preset.Security)
	case isAdd || smtpGiven:
		// Port 465 is implicit TLS by convention (RFC 8314); elsewhere
		// insist on STARTTLS rather than risk sending a password in clear.
		a.Security = account.SecurityStartTLS
		if a.SMTPPort == 465 {
			a.Security = account.SecurityTLS
		}
	}

	switch {
	case in.Auth != nil:
		a.Auth = account.AuthMethod(strings.ToLower(*in.Auth))
	case isAdd && a.Credentials != "":
		a.Auth = account.AuthXOAuth2
	case isAdd && in.Password != nil:
		a.Auth = account.AuthPlain
	case isAdd:
		return fieldErr("auth", CodeRequired, "--auth is required: xoauth2 (with --credentials NAME), plain or login (with --password-file FILE), or none")
	}
	if a.Auth != account.AuthXOAuth2 && in.Credentials != nil && *in.Credentials != "" {
		return fieldErr("credentials", CodeNotUsed, "--credentials is only used with --auth xoauth2 (got --auth %s)", a.Auth)
	}
	if a.Auth != account.AuthXOAuth2 && in.Credentials == nil && !isAdd {
		a.Credentials = "" // switching away from OAuth drops the link
	}
	if a.Auth == account.AuthXOAuth2 && a.Security == account.SecurityNone {
		return fieldErr("security", CodeInvalid, "--auth xoauth2 sends a sign-in token: use --security tls or starttls, not none")
	}

	if in.Password != nil {
		if !usesPassword(a.Auth) {
			return fieldErr("password", CodeNotUsed, "--password-file is only used with --auth plain or login (got --auth %s)", a.Auth)
		}
	} else if usesPassword(a.Auth) {
		sec, err := s.secrets()
		if err != nil {
			return err
		}
		has, err := HasPassword(sec, a.Name)
		if err != nil {
			return err
		}
		if !has {
			return fieldErr("password", CodeRequired, "--auth %s needs the password: give it with --password-file FILE", a.Auth)
		}
	}
	if usesPassword(a.Auth) && a.Security == account.SecurityNone {
		ch.Warnings = append(ch.Warnings, Warning{Code: "password_in_clear",
			Message: "--security none sends the password in clear text; use it only for a relay on this machine"})
	}

	// Checked when this call sets the credentials, the server, the
	// provider or an API way: an edit of something else leaves an older
	// account be. Before the way's own check, which could only say that
	// the way needs a file of its provider: this says which file is whose.
	if a.Credentials != "" && (isAdd || in.Credentials != nil || in.SMTPHost != nil || in.Provider != nil || viaAPI(in) != "") {
		if err := checkCredentialsProvider(a.Credentials, kind, a.SMTPHost, viaOf(a, in), in); err != nil {
			return err
		}
	}
	viaChanged, err := applyVia(a, in, kind, isAdd, ch)
	if err != nil {
		return err
	}

	if err := applyTLSFiles(a, in); err != nil {
		return err
	}
	if in.ConfirmReauth != nil {
		a.ConfirmReauth = *in.ConfirmReauth
	}
	return applyLimits(a, in, kind, isAdd || viaChanged)
}

// applyVia sets how a's messages leave; an API needs an OAuth sign-in with
// credentials of its provider. It reports whether an existing account's
// way changed: its limits then follow the new way's preset.
func applyVia(a *account.Account, in AccountInput, kind provider.Kind, isAdd bool, ch *AccountChange) (bool, error) {
	old := a.SendsVia()
	if in.Via != nil {
		v, err := account.ParseVia(*in.Via)
		if err != nil {
			return false, fieldErr("via", CodeInvalid, "%w", err)
		}
		a.Via = v
	}
	via := a.SendsVia()
	if via.API() && (a.Auth != account.AuthXOAuth2 || kind != via.Provider()) {
		return false, fieldErr("via", CodeInvalid, "--via %s sends with a %s sign-in: the account needs --auth xoauth2 and --credentials NAME of a %s credential file (see 'bluemoon credentials list')",
			via, via.Provider(), via.Provider())
	}
	if isAdd || via == old {
		return false, nil
	}
	msg := fmt.Sprintf("the limits are now the %s preset", via)
	if via.API() {
		msg += fmt.Sprintf("; sign in again ('bluemoon login %s') if the earlier sign-in did not consent to what %s needs", a.Name, via)
	}
	ch.Warnings = append(ch.Warnings, Warning{Code: WarnViaChanged, Message: msg})
	return true, nil
}

// ProviderMismatchError: the credentials an account is to sign in with
// are another provider's than the one chosen (Want), or than the one whose
// well-known SMTP server was given (Server). Its FieldError is on
// "credentials" ("smtp_host" for a server), code CodeProviderMismatch.
type ProviderMismatchError struct {
	Credentials string        // the credentials' name
	Have        provider.Kind // what the credential file is for
	Want        provider.Kind // what was chosen, or whose server or API was given
	Server      string        // the SMTP server given, when it told Want
	Via         account.Via   // the provider's API given (no provider chosen), when it told Want
}

func (e *ProviderMismatchError) Error() string {
	if e.Via != "" {
		return fmt.Sprintf("--credentials %s are for %s, but --via %s sends with a %s sign-in: use --credentials of a %s credential file (import it with 'bluemoon credentials import'), or --via %s",
			e.Credentials, e.Have, e.Via, e.Want, e.Want, viaFor(e.Have))
	}
	if e.Server != "" {
		p, _ := provider.SMTPPresetFor(e.Have)
		return fmt.Sprintf("--credentials %s are for %s, but the SMTP server %s is %s's: use --credentials of a %s credential file (import it with 'bluemoon credentials import'), or %s's server (--smtp %s:%d, or no --smtp on add)",
			e.Credentials, e.Have, e.Server, e.Want, e.Want, e.Have, p.Host, p.Port)
	}
	return fmt.Sprintf("credentials %s are for %s, not %s: choose %s, or import a %s credential file ('bluemoon credentials import') and use it",
		e.Credentials, e.Have, e.Want, e.Have, e.Want)
}

// CodeProviderMismatch is the FieldError code of a *ProviderMismatchError.
const CodeProviderMismatch = "provider_mismatch"

// checkCredentialsProvider refuses credentials of one provider for an
// account chosen to be another's, sending through another provider's API
// (via, as it is to be saved, when no provider is chosen), or whose SMTP
// server (host, as it is to be saved) is another provider's well-known
// one: its sign-in could never work there, and the account would be saved
// as the credentials' provider, not the one the user meant.
func checkCredentialsProvider(name string, have provider.Kind, host string, via account.Via, in AccountInput) error {
	mismatch := func(pm *ProviderMismatchError) error {
		field := "credentials"
		switch {
		case pm.Server != "":
			field = "smtp_host"
		case pm.Via != "":
			field = "via"
		}
		return &FieldError{Field: field, Code: CodeProviderMismatch, Message: pm.Error(), Err: pm}
	}
	if in.Provider != nil && *in.Provider != "" {
		want, err := provider.ParseKind(*in.Provider)
		if err != nil {
			return fieldErr("provider", CodeInvalid, "%w", err)
		}
		if want != have {
			return mismatch(&ProviderMismatchError{Credentials: name, Have: have, Want: want})
		}
	} else if via.API() && via.Provider() != have {
		// No provider chosen (the CLI): the API way, given or kept, names it.
		return mismatch(&ProviderMismatchError{Credentials: name, Have: have, Want: via.Provider(), Via: via})
	}
	// A Google or Microsoft sign-in works on its own provider's server
	// only; a generic file's server is whatever its administrator says.
	if _, known := provider.SMTPPresetFor(have); !known {
		return nil
	}
	if k, known := provider.HostProvider(host); known && k != have {
		return mismatch(&ProviderMismatchError{Credentials: name, Have: have, Want: k, Server: host})
	}
	return nil
}

// viaAPI is the provider's API in.Via names, "" when it names none (or is
// not a way at all: applyVia says so).
func viaAPI(in AccountInput) account.Via {
	if in.Via == nil {
		return ""
	}
	if v, err := account.ParseVia(*in.Via); err == nil && v.API() {
		return v
	}
	return ""
}

// viaOf is the way a's messages are to leave once in is applied: in's,
// if it names one, else a's as it is.
func viaOf(a *account.Account, in AccountInput) account.Via {
	if in.Via != nil {
		if v, err := account.ParseVia(*in.Via); err == nil {
			return v
		}
	}
	return a.SendsVia()
}

// viaFor is the way of sending a provider's own API is, smtp for one
// without.
func viaFor(k provider.Kind) account.Via {
	for _, v := range []account.Via{account.ViaGraph, account.ViaGmailAPI} {
		if v.Provider() == k {
			return v
		}
	}
	return account.ViaSMTP
}

// WarnViaChanged is the Warning code of an account whose way of sending
// changed: its limits were reset to the new way's preset.
const WarnViaChanged = "via_changed"

// set copies *from into *to when given, through clean if not nil.
func set(to *string, from *string, clean func(string) string) {
	if from == nil {
		return
	}
	*to = *from
	if clean != nil {
		*to = clean(*to)
	}
}

// applyTLSFiles checks the certificate files now, so a typo shows here
// rather than at the first delivery.
func applyTLSFiles(a *account.Account, in AccountInput) error {
	if in.ClientCert != nil || in.ClientKey != nil {
		if in.ClientCert != nil {
			a.ClientCert = *in.ClientCert
		}
		if in.ClientKey != nil {
			a.ClientKey = *in.ClientKey
		}
		if in.ClientCert != nil && *in.ClientCert == "" && in.ClientKey == nil {
			a.ClientKey = ""
		}
		if (a.ClientCert == "") != (a.ClientKey == "") {
			return fieldErr("client_key", CodeRequired, "--client-cert and --client-key go together: give both (or --client-cert '' to remove)")
		}
		if a.ClientCert != "" {
			if _, err := tls.LoadX509KeyPair(a.ClientCert, a.ClientKey); err != nil {
				return fieldErr("client_cert", CodeInvalid, "--client-cert/--client-key: %w", err)
			}
			a.ClientCert, a.ClientKey = absPath(a.ClientCert), absPath(a.ClientKey)
		}
	}
	if in.CAFile != nil {
		a.CAFile = *in.CAFile
		if a.CAFile != "" {
			pem, err := os.ReadFile(a.CAFile)
			if err != nil {
				return fieldErr("ca_file", "unreadable", "--ca-file: %w", fileerr.Explain(err))
			}
			if !x509.NewCertPool().AppendCertsFromPEM(pem) {
				return fieldErr("ca_file", CodeInvalid, "--ca-file %s holds no PEM certificate", a.CAFile)
			}
			a.CAFile = absPath(a.CAFile)
		}
	}
	return nil
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// applyLimits sets the limits given; preset (a new account, or a new way
// of sending) starts from the provider's preset for the way first.
func applyLimits(a *account.Account, in AccountInput, kind provider.Kind, preset bool) error {
	if preset {
		a.Limits = provider.LimitsFor(kind)
		if a.SendsVia().API() {
			a.Limits = provider.APILimits(kind)
		}
	}
	for _, l := range []struct {
		field, flag string
		val         *int
		dst         *int
	}{
		{"per_minute", "per-minute", in.PerMinute, &a.Limits.PerMinute},
		{"per_day", "per-day", in.PerDay, &a.Limits.PerDay},
		{"connections", "connections", in.Connections, &a.Limits.Connections},
		{"per_connection", "per-connection", in.PerConnection, &a.Limits.PerConnection},
	} {
		if l.val == nil {
			continue
		}
		if *l.val < 0 {
			return fieldErr(l.field, CodeInvalid, "--%s %d: use 0 (no limit) or a positive number", l.flag, *l.val)
		}
		*l.dst = *l.val
	}
	return nil
}

// RemoveAccount removes an account, its password and its sign-in tokens.
// It refuses (*InUseError) while deliveries of the account are unfinished.
func (s *Service) RemoveAccount(ctx context.Context, name string) error {
	sec, err := s.secrets()
	if err != nil {
		return err
	}
	if _, err := s.account(ctx, name); err != nil {
		return err
	}
	// Checked in the removal's transaction: a delivery that another
	// process begins to prepare meanwhile is either seen, or finds the
	// account gone.
	err = s.accounts().RemoveIf(ctx, name, func(ctx context.Context, tx *sql.Tx) error {
		ids, err := delivery.Unfinished(ctx, tx, name)
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		// Those being prepared are hidden from the lists until their
		// preflight ends: the refusal says so, rather than name a
		// delivery no list shows.
		preparing, err := delivery.Preparing(ctx, tx, name)
		if err != nil {
			return err
		}
		return &InUseError{Kind: KindAccount, Name: name, By: idStrings(ids), Preparing: idStrings(preparing),
			CleanedAfter: delivery.AbandonedAfter}
	})
	if err != nil {
		return accountNotFound(name, err)
	}
	// A later account of the same name must not inherit them. The tokens
	// are deleted under their lock: a refresh in flight in another process
	// would otherwise save them again just after.
	unlock, err := sec.Lock(ctx, TokenSecret(name))
	if err != nil {
		return err
	}
	defer unlock()
	for _, n := range []string{PasswordSecret(name), TokenSecret(name)} {
		if err := sec.Delete(n); err != nil {
			return err
		}
	}
	return nil
}

func idStrings(ids []int64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatInt(id, 10)
	}
	return out
}

// account loads the named account.
func (s *Service) account(ctx context.Context, name string) (*account.Account, error) {
	a, err := s.accounts().Get(ctx, name)
	if err != nil {
		return nil, accountNotFound(name, err)
	}
	return a, nil
}

// accountNotFound makes the store's "no such account" a *NotFoundError.
func accountNotFound(name string, err error) error {
	if errors.Is(err, account.ErrNotFound) {
		return &NotFoundError{Kind: KindAccount, Name: name, Err: err}
	}
	return err
}

// requireAccount checks that the account an input names exists: a
// misspelt one would only show when a timer runs, weeks later.
func (s *Service) requireAccount(ctx context.Context, field, flag, name string) error {
	if _, err := s.accounts().Get(ctx, name); err != nil {
		if errors.Is(err, account.ErrNotFound) {
			return fieldErr(field, CodeNotFound, "%s: %w", flag, err)
		}
		return err
	}
	return nil
}

// oauthAccount loads an account and checks it signs in with OAuth.
func (s *Service) oauthAccount(ctx context.Context, name string) (*account.Account, error) {
	a, err := s.account(ctx, name)
	if err != nil {
		return nil, err
	}
	if a.Auth != account.AuthXOAuth2 {
		return nil, exitcode.Usagef("account %s authenticates with %q, not OAuth (xoauth2): there is nothing to sign in to", name, a.Auth)
	}
	return a, nil
}
