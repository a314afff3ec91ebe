package core

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/bluemoon-mail/bluemoon/internal/credfile"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/fileerr"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// Credential files: an administrator makes one (CreateCredentialFile) with
// the organisation's OAuth app settings, signed and encrypted; users
// import it (InspectCredentialFile shows the signer before they decide,
// ImportCredentialFile stores it). The client secret never comes back out.

// CredentialDefaults returns a provider's default settings (the guide's
// 既定値の設定) for a tenant ("" is Microsoft's default, organizations).
func CredentialDefaults(kind, tenant string) (provider.Config, error) {
	k, err := provider.ParseKind(kind)
	if err != nil {
		return provider.Config{}, fieldErr("provider", CodeInvalid, "--provider: %w", err)
	}
	d, err := provider.Defaults(k, tenant)
	if err != nil {
		return provider.Config{}, fieldErr("tenant", CodeInvalid, "--tenant: %w", err)
	}
	return d, nil
}

// CredentialDefaults is the package function CredentialDefaults, for
// faces that hold a Service.
func (s *Service) CredentialDefaults(kind, tenant string) (provider.Config, error) {
	return CredentialDefaults(kind, tenant)
}

// CreateInput is the hidden credential-file screen: every field of the
// file, empty ones filled from the provider's defaults.
type CreateInput struct {
	Provider                                                        string // google, microsoft or generic
	Tenant, ClientID, ClientSecret                                  string
	AuthEndpoint, AuthScope, TokenEndpoint, TokenScope, RedirectURI string
	DeviceEndpoint, RevokeEndpoint, UserinfoEndpoint                string
	// Issuer (generic only) is an OpenID provider's issuer URL: the
	// endpoints left empty are read from its discovery document.
	Issuer string
	// APIEndpoint and APIScope are for accounts sending through the
	// provider's mail API (--via graph / gmail-api): its base URL (a
	// national cloud's Graph) and the scope of its token.
	APIEndpoint, APIScope string
	// Passphrase encrypts the file with a key from it; without one the
	// key is built into bluemoon: that hides the settings from casual
	// eyes, not from anyone who has the program.
	Passphrase string
}

// CreatedFile describes a credential file just made.
type CreatedFile struct {
	Provider        provider.Kind
	Tenant          string
	Passphrase      bool   // encrypted with the passphrase (else the built-in key)
	Signer          string // the signing key's fingerprint, for users to pin (--trust)
	NewSigningKey   bool   // the home's admin signing key was made now
	SigningKeyFile  string // where it is: keep it, sign every later file with it
	CustomEndpoints []string
	Warnings        []Warning // settings allowed but probably a mistake
}

// CreateCredentialFile makes a signed, encrypted credential file with this
// home's admin signing key (made on first use) and returns its bytes for
// the face to save (the CLI to --out, the console as a download). An
// incomplete file is refused, naming the missing field.
func (s *Service) CreateCredentialFile(ctx context.Context, in CreateInput) ([]byte, *CreatedFile, error) {
	k, err := provider.ParseKind(in.Provider)
	if err != nil {
		return nil, nil, fieldErr("provider", CodeInvalid, "--provider: %w", err)
	}
	cfg := provider.Config{Provider: k, Tenant: in.Tenant, ClientID: in.ClientID, ClientSecret: in.ClientSecret,
		AuthEndpoint: in.AuthEndpoint, AuthScope: in.AuthScope, TokenEndpoint: in.TokenEndpoint, TokenScope: in.TokenScope,
		RedirectURI: in.RedirectURI, DeviceEndpoint: in.DeviceEndpoint, RevokeEndpoint: in.RevokeEndpoint, UserinfoURL: in.UserinfoEndpoint,
		APIEndpoint: in.APIEndpoint, APIScope: in.APIScope}
	if in.Issuer != "" {
		if k != provider.Generic {
			return nil, nil, fieldErr("issuer", CodeInvalid, "--issuer is for --provider generic (%s's endpoints are built in)", k)
		}
		if cfg, err = oauth.FillFromIssuer(ctx, s.opts.HTTPClient, in.Issuer, cfg); err != nil {
			return nil, nil, fieldErr("issuer", CodeInvalid, "%w", err)
		}
	}
	if cfg, err = provider.FillDefaults(cfg); err != nil {
		return nil, nil, fieldErr("tenant", CodeInvalid, "--tenant: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		fe := fieldErr("", CodeRequired, "refusing to write an incomplete credential file: %w", err)
		var mf *provider.MissingFieldError
		var inv *provider.InvalidFieldError
		switch {
		case errors.As(err, &mf):
			fe.Field = mf.Field
		case errors.As(err, &inv):
			fe.Field, fe.Code = inv.Field, CodeInvalid
		}
		return nil, nil, fe
	}
	key, created, err := credfile.LoadOrCreateSigningKey(s.home)
	if err != nil {
		return nil, nil, err
	}
	data, err := credfile.Seal(cfg, key, credfile.SealOptions{Passphrase: []byte(in.Passphrase)})
	if err != nil {
		return nil, nil, err
	}
	return data, &CreatedFile{Provider: cfg.Provider, Tenant: cfg.Tenant, Passphrase: in.Passphrase != "",
		Signer: credfile.Fingerprint(key.Public().(ed25519.PublicKey)), NewSigningKey: created,
		SigningKeyFile: filepath.Join(s.home, credfile.SigningKeyFile), CustomEndpoints: cfg.CustomEndpoints(),
		Warnings: providerWarnings(cfg)}, nil
}

func providerWarnings(cfg provider.Config) []Warning {
	var out []Warning
	for _, w := range cfg.Warnings() {
		out = append(out, Warning{Code: w.Code, Message: w.Message})
	}
	return out
}

// ReadCredentialFile reads a credential file (at most 1 MiB), with the
// reason in words when it cannot.
func ReadCredentialFile(path string) ([]byte, error) {
	data, err := credfile.ReadFile(path)
	if errors.Is(err, credfile.ErrTooLarge) {
		return nil, explainFileError(path, err)
	}
	if err != nil {
		return nil, fieldErr("file", "unreadable", "%w", fileerr.Explain(err))
	}
	return data, nil
}

// CredentialFileInfo is what a file says about itself before it is
// imported: who signed it, whether it needs a passphrase and, once
// decrypted, its provider and any endpoint that is not the provider's
// default (such a file could send sign-ins elsewhere).
type CredentialFileInfo struct {
	Source          string // the file's name, for messages
	Signer          string // fingerprint of the signing key
	NeedsPassphrase bool
	Decrypted       bool // the fields below are known
	Provider        provider.Kind
	Tenant          string
	ClientID        string
	HasSecret       bool
	CustomEndpoints []string
	// OtherSigner names imported credentials signed by another key than
	// this file ("" when none): a new admin key, or someone else's file.
	OtherSigner, OtherSignerName string

	env *credfile.Envelope
}

// InspectCredentialFile checks a credential file (complete, unmodified,
// a version this program reads, validly signed) and says what it is.
// With the passphrase (or for a file that needs none) it is also
// decrypted. source is the file's name, for messages.
func (s *Service) InspectCredentialFile(ctx context.Context, source string, data []byte, passphrase string) (*CredentialFileInfo, error) {
	env, err := credfile.Parse(data)
	if err != nil {
		return nil, explainFileError(source, err)
	}
	info := &CredentialFileInfo{Source: source, Signer: env.Fingerprint(), NeedsPassphrase: env.NeedsPassphrase(), env: env}
	if cs, err := s.credentials(); err == nil {
		if list, err := cs.List(ctx); err == nil {
			for _, c := range list {
				if c.Signer != "" && c.Signer != info.Signer {
					info.OtherSigner, info.OtherSignerName = c.Signer, c.Name
					break
				}
			}
		}
	}
	if info.NeedsPassphrase && passphrase == "" {
		return info, nil
	}
	cfg, err := env.Decrypt([]byte(passphrase))
	if err != nil {
		return nil, explainFileError(source, err)
	}
	info.Decrypted = true
	info.Provider, info.Tenant, info.ClientID, info.HasSecret = cfg.Provider, cfg.Tenant, cfg.ClientID, cfg.ClientSecret != ""
	info.CustomEndpoints = cfg.CustomEndpoints()
	return info, nil
}

// CheckTrust refuses the file unless trust is empty or the fingerprint of
// its signer (the --trust pin).
func (i *CredentialFileInfo) CheckTrust(trust string) error {
	if err := i.env.CheckTrust(trust); err != nil {
		return explainFileError(i.Source, err)
	}
	return nil
}

// ImportInput is a credential file to import and the person's decisions.
type ImportInput struct {
	Source     string // the file's name, for messages
	Data       []byte
	Passphrase string
	Name       string // to import under
	// Trust pins the signer: the file is refused unless signed by this
	// fingerprint. "" accepts any signer (shown by Inspect).
	Trust                 string
	AcceptCustomEndpoints bool // import even if endpoints are not the provider's defaults
	Replace               bool // replace credentials of the same name
}

// ImportResult is credentials just imported.
type ImportResult struct {
	Name            string
	Provider        provider.Kind
	Tenant          string
	Signer          string
	Passphrase      bool
	CustomEndpoints []string
	Warnings        []Warning
}

// CustomEndpointsError refuses a file whose endpoints are not its
// provider's defaults, unless the person accepts them (the administrator
// confirmed them): it could send their sign-in to someone else.
type CustomEndpointsError struct {
	Source    string
	Provider  provider.Kind
	Endpoints []string // "token_endpoint = https://…"
}

func (e *CustomEndpointsError) Error() string {
	return fmt.Sprintf("%s: %d endpoint(s) are not %s's defaults (listed above) and could send your sign-in to someone else; "+
		"nothing was imported. Import with --accept-custom-endpoints only if your administrator confirms them",
		e.Source, len(e.Endpoints), e.Provider)
}
func (e *CustomEndpointsError) ExitCode() int { return exitcode.Usage }

// ImportCredentialFile checks a credential file as Inspect does, decrypts
// it and stores it under in.Name. Nothing is imported when any check
// fails; replacing credentials that accounts sign in with, when one of
// them could not use the new file, is a *CredentialsInUseError.
func (s *Service) ImportCredentialFile(ctx context.Context, in ImportInput) (*ImportResult, error) {
	o, err := s.openImport(ctx, in)
	if err != nil {
		return nil, err
	}
	if in.Replace {
		// Accounts sign in with the name: the new file must suit each.
		if err := s.checkReplace(ctx, in.Name, o.cfg.Provider); err != nil {
			return nil, err
		}
	}
	if err := s.storeImport(ctx, in, o); err != nil {
		return nil, err
	}
	return o.res, nil
}

// openedImport is a credential file checked and decrypted for an import,
// not stored yet.
type openedImport struct {
	cfg provider.Config
	res *ImportResult
}

// openImport does every check of an import that needs nothing stored.
func (s *Service) openImport(ctx context.Context, in ImportInput) (*openedImport, error) {
	if err := credstore.ValidateName(in.Name); err != nil {
		return nil, fieldErr("name", CodeInvalid, "--name: %w", err)
	}
	env, err := credfile.Parse(in.Data)
	if err != nil {
		return nil, explainFileError(in.Source, err)
	}
	fp := env.Fingerprint()
	if err := env.CheckTrust(in.Trust); err != nil {
		return nil, explainFileError(in.Source, err)
	}
	if env.NeedsPassphrase() && in.Passphrase == "" {
		return nil, &FieldError{Field: "passphrase", Code: "passphrase_required",
			Message: credfile.ErrPassphraseRequired.Error() + ": give it with --passphrase-file FILE; nothing was imported", Err: credfile.ErrPassphraseRequired}
	}
	cfg, err := env.Decrypt([]byte(in.Passphrase))
	if err != nil {
		return nil, explainFileError(in.Source, err)
	}
	custom := cfg.CustomEndpoints()
	if len(custom) > 0 && !in.AcceptCustomEndpoints {
		return nil, &CustomEndpointsError{Source: in.Source, Provider: cfg.Provider, Endpoints: custom}
	}
	cs, err := s.credentials()
	if err != nil {
		return nil, err
	}
	res := &ImportResult{Name: in.Name, Provider: cfg.Provider, Tenant: cfg.Tenant, Signer: fp,
		Passphrase: env.NeedsPassphrase(), CustomEndpoints: custom}
	if in.Trust == "" {
		if list, err := cs.List(ctx); err == nil {
			for _, c := range list {
				if c.Signer != "" && c.Signer != fp {
					res.Warnings = append(res.Warnings, Warning{Code: "new_signer", Message: fmt.Sprintf(
						"credentials %q were signed by %s, this file by another key; if you did not expect that, ask your administrator", c.Name, c.Signer)})
					break
				}
			}
		}
	}
	return &openedImport{cfg: cfg, res: res}, nil
}

// storeImport stores an opened import under in.Name.
func (s *Service) storeImport(ctx context.Context, in ImportInput, o *openedImport) error {
	cs, err := s.credentials()
	if err != nil {
		return err
	}
	err = cs.Import(ctx, in.Name, o.cfg, credstore.ImportOptions{Signer: o.res.Signer, Replace: in.Replace})
	if errors.Is(err, credstore.ErrExists) {
		return fieldErr("name", CodeExists, "%w; nothing was imported", err)
	}
	return err
}

// explainFileError turns credfile's errors into what the user should do.
func explainFileError(path string, err error) error {
	var untrusted *credfile.UntrustedSignerError
	var malformed *credfile.MalformedTrustError
	advice, code, field := "", "", "file"
	switch {
	case errors.As(err, &malformed):
		// The --trust typed, not the file: its message says the shape.
		return fieldErr("trust", CodeInvalid, "%s: %w; nothing was imported", path, err)
	case errors.Is(err, credfile.ErrDamaged):
		advice, code = "ask the administrator for a fresh copy", "damaged"
	case errors.Is(err, credfile.ErrNewerVersion):
		advice, code = "install a newer bluemoon", "newer_version"
	case errors.Is(err, credfile.ErrNotCredentialFile):
		advice, code = "check that you chose the file the administrator sent ("+credfile.Extension+")", "not_credential_file"
	case errors.Is(err, credfile.ErrTooLarge):
		advice, code = "check that you chose the file the administrator sent ("+credfile.Extension+")", "too_large"
	case errors.Is(err, credfile.ErrWrongPassphrase):
		advice, code, field = "check the passphrase the administrator gave you", "wrong_passphrase", "passphrase"
	case errors.Is(err, credfile.ErrPassphraseRequired):
		advice, code, field = "give it with --passphrase-file FILE", "passphrase_required", "passphrase"
	case errors.As(err, &untrusted):
		advice, code, field = "someone else made this file, or --trust is wrong; ask the administrator", "untrusted", "trust"
	default:
		return fmt.Errorf("%s: %w; nothing was imported", path, err)
	}
	return fieldErr(field, code, "%s: %w; nothing was imported (%s)", path, err, advice)
}

// Credentials lists imported credentials (never a client secret).
func (s *Service) Credentials(ctx context.Context) ([]*credstore.Credential, error) {
	cs, err := s.credentials()
	if err != nil {
		return nil, err
	}
	return cs.List(ctx)
}

// Credential returns imported credentials by name (never the secret).
func (s *Service) Credential(ctx context.Context, name string) (*credstore.Credential, error) {
	cs, err := s.credentials()
	if err != nil {
		return nil, err
	}
	cr, err := cs.Get(ctx, name)
	if errors.Is(err, credstore.ErrNotFound) {
		return nil, &NotFoundError{Kind: KindCredentials, Name: name, Err: err}
	}
	return cr, err
}

// RemoveCredentials removes imported credentials and their client secret;
// it refuses while accounts use them (*credstore.InUseError, exit 2).
func (s *Service) RemoveCredentials(ctx context.Context, name string) error {
	cs, err := s.credentials()
	if err != nil {
		return err
	}
	err = cs.Remove(ctx, name)
	var inUse *credstore.InUseError
	switch {
	case errors.Is(err, credstore.ErrNotFound):
		return &NotFoundError{Kind: KindCredentials, Name: name, Err: err}
	case errors.As(err, &inUse):
		return &exitcode.UsageError{Err: err}
	}
	return err
}
