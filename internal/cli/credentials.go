package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/credfile"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/home"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

func init() { register(credentialsCmd) }

func credentialsCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "credentials",
		Short: "Make, import and manage credential files (the organisation's OAuth app settings)",
		Long: `An administrator makes a credential file with the OAuth client ID, secret, tenant,
endpoints and scopes of the organisation's app ('credentials create'), and hands it
to users, who import it ('credentials import') without ever seeing its contents.`,
	}
	c.AddCommand(credDefaultsCmd(app), credCreateCmd(app), credImportCmd(app),
		credListCmd(app), credShowCmd(app), credRemoveCmd(app))
	return c
}

// credentialsStore opens the imported-credentials store of the data home.
func credentialsStore(ctx context.Context, app *App) (*credstore.Store, error) {
	db, err := app.DB(ctx)
	if err != nil {
		return nil, err
	}
	sec, err := app.secretStore()
	if err != nil {
		return nil, err
	}
	return &credstore.Store{DB: db.DB, Secrets: sec}, nil
}

// readSecretFile reads a passphrase, password or client secret from path
// ("-": standard input), without its final line break. It never echoes.
func readSecretFile(app *App, flag, path string) (string, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(app.Stdin, 1<<16))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return "", exitcode.Usagef("%s %s: %w", flag, path, err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", exitcode.Usagef("%s %s is empty", flag, path)
	}
	return s, nil
}

// defaultsView prints every field, empty ones included (Config omits them).
type defaultsView struct {
	Provider      provider.Kind `json:"provider"`
	Tenant        string        `json:"tenant"`
	ClientID      string        `json:"client_id"`
	ClientSecret  string        `json:"client_secret"`
	AuthEndpoint  string        `json:"auth_endpoint"`
	AuthScope     string        `json:"auth_scope"`
	TokenEndpoint string        `json:"token_endpoint"`
	TokenScope    string        `json:"token_scope"`
	RedirectURI   string        `json:"redirect_uri"`
}

func credDefaultsCmd(app *App) *cobra.Command {
	var kind, tenant string
	var asJSON bool
	c := &cobra.Command{
		Use:   "defaults --provider google|microsoft|generic [--tenant T]",
		Short: "Print a provider's default settings (the guide's 既定値の設定)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := provider.ParseKind(kind)
			if err != nil {
				return exitcode.Usagef("--provider: %w", err)
			}
			d, err := provider.Defaults(k, tenant)
			if err != nil {
				return exitcode.Usagef("--tenant: %w", err)
			}
			v := defaultsView{d.Provider, d.Tenant, d.ClientID, d.ClientSecret, d.AuthEndpoint, d.AuthScope,
				d.TokenEndpoint, d.TokenScope, d.RedirectURI}
			if asJSON {
				return app.PrintJSON(v)
			}
			tw := tabwriter.NewWriter(app.Stdout, 0, 0, 2, ' ', 0)
			for _, row := range [][2]string{
				{"provider", string(v.Provider)}, {"tenant", v.Tenant}, {"client_id", v.ClientID},
				{"client_secret", v.ClientSecret}, {"auth_endpoint", v.AuthEndpoint}, {"auth_scope", v.AuthScope},
				{"token_endpoint", v.TokenEndpoint}, {"token_scope", v.TokenScope}, {"redirect_uri", v.RedirectURI},
			} {
				fmt.Fprintf(tw, "%s:\t%s\n", row[0], orDash(row[1]))
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&kind, "provider", "", "google, microsoft or generic (required)")
	c.Flags().StringVar(&tenant, "tenant", "", "Microsoft tenant: "+provider.TenantForms)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.MarkFlagRequired("provider")
	return c
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func credCreateCmd(app *App) *cobra.Command {
	var cfg provider.Config
	var kind, secretFile, out, passFile, issuer string
	var force, asJSON bool
	c := &cobra.Command{
		Use:   "create --provider P --client-id ID [--client-secret S] --out FILE [--passphrase-file F]",
		Short: "Make a signed, encrypted credential file to hand out to users",
		Long: `Make a credential file. Fields not given are filled from the provider's defaults
(see 'bluemoon credentials defaults'); an incomplete file is refused, naming the
missing field. The file is signed with this home's admin signing key, made on
first use in ` + credfile.SigningKeyFile + `; users see its fingerprint when they import.

Without --passphrase-file the file is encrypted with a key built into bluemoon:
that hides the settings from casual eyes, but anyone who has bluemoon can read
them. With a passphrase, hand the passphrase to users separately from the file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := provider.ParseKind(kind)
			if err != nil {
				return exitcode.Usagef("--provider: %w", err)
			}
			cfg.Provider = k
			if secretFile != "" {
				if cfg.ClientSecret != "" {
					return exitcode.Usagef("give --client-secret or --client-secret-file, not both")
				}
				if cfg.ClientSecret, err = readSecretFile(app, "--client-secret-file", secretFile); err != nil {
					return err
				}
			}
			if issuer != "" {
				if k != provider.Generic {
					return exitcode.Usagef("--issuer is for --provider generic (%s's endpoints are built in)", k)
				}
				if cfg, err = oauth.FillFromIssuer(cmd.Context(), nil, issuer, cfg); err != nil {
					return exitcode.Usagef("%w", err)
				}
			}
			if cfg, err = provider.FillDefaults(cfg); err != nil {
				return exitcode.Usagef("--tenant: %w", err)
			}
			if err := cfg.Validate(); err != nil {
				return exitcode.Usagef("refusing to write an incomplete credential file: %w", err)
			}
			for _, w := range cfg.Warnings() {
				app.Warnf("warning: %s\n", w)
			}
			if _, err := os.Stat(out); err == nil && !force {
				return exitcode.Usagef("--out %s already exists: choose another name or add --force", out)
			}
			var pass string
			if passFile != "" {
				if pass, err = readSecretFile(app, "--passphrase-file", passFile); err != nil {
					return err
				}
			}
			dir, err := app.Home()
			if err != nil {
				return err
			}
			key, created, err := credfile.LoadOrCreateSigningKey(dir)
			if err != nil {
				return err
			}
			data, err := credfile.Seal(cfg, key, credfile.SealOptions{Passphrase: []byte(pass)})
			if err != nil {
				return err
			}
			if err := home.WriteFileAtomic(out, data, 0o600); err != nil {
				return err
			}
			fp := credfile.Fingerprint(key.Public().(ed25519.PublicKey))
			mode := "none"
			if pass != "" {
				mode = "passphrase"
			}
			if asJSON {
				return app.PrintJSON(map[string]any{"file": out, "provider": cfg.Provider, "tenant": cfg.Tenant,
					"encryption": mode, "signer": fp, "new_signing_key": created,
					"custom_endpoints": nonNil(cfg.CustomEndpoints())})
			}
			app.Printf("Wrote %s (%s%s).\n", out, cfg.Provider, tenantNote(cfg))
			if created {
				app.Printf("Made a new admin signing key: %s (keep it: sign every later file with it).\n",
					filepath.Join(dir, credfile.SigningKeyFile))
			}
			app.Printf("Signed by %s\n", fp)
			app.Printf("Users can pin it: bluemoon credentials import %s --trust %s\n", out, fp)
			if pass != "" {
				app.Printf("Encrypted with your passphrase: give it to users separately from the file.\n")
			} else {
				app.Printf("No passphrase: the settings are hidden from casual eyes only; anyone with bluemoon can read them.\n")
			}
			for _, e := range cfg.CustomEndpoints() {
				app.Warnf("note: not a %s default, users must accept it: %s\n", cfg.Provider, e)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&kind, "provider", "", "google, microsoft or generic (required)")
	f.StringVar(&cfg.Tenant, "tenant", "", "Microsoft tenant (default organizations): "+provider.TenantForms)
	f.StringVar(&cfg.ClientID, "client-id", "", "client ID of the app registration (required)")
	f.StringVar(&cfg.ClientSecret, "client-secret", "", "client secret (required for google; microsoft desktop apps have none)")
	f.StringVar(&secretFile, "client-secret-file", "", "read the client secret from this file ('-': stdin) instead")
	f.StringVar(&cfg.AuthEndpoint, "auth-endpoint", "", "authorization endpoint (default: the provider's)")
	f.StringVar(&cfg.AuthScope, "auth-scope", "", "scopes sent to the authorization endpoint")
	f.StringVar(&cfg.TokenEndpoint, "token-endpoint", "", "token endpoint (default: the provider's)")
	f.StringVar(&cfg.TokenScope, "token-scope", "", "scopes sent to the token endpoint")
	f.StringVar(&cfg.RedirectURI, "redirect-uri", "", "redirect URI (default "+provider.DefaultRedirectURI+")")
	f.StringVar(&cfg.DeviceEndpoint, "device-endpoint", "", "device authorization endpoint, for 'login --device' (default: the provider's, if any)")
	f.StringVar(&cfg.RevokeEndpoint, "revoke-endpoint", "", "token revocation endpoint, for 'logout' (default: the provider's, if any)")
	f.StringVar(&cfg.UserinfoURL, "userinfo-endpoint", "", "OpenID userinfo endpoint, to learn who signed in (default: the provider's, if any)")
	f.StringVar(&issuer, "issuer", "", "generic: an OpenID provider's issuer URL; the endpoints not given are read from its "+oauth.DiscoveryPath)
	f.StringVar(&out, "out", "", "file to write, e.g. acme-google"+credfile.Extension+" (required)")
	f.StringVar(&passFile, "passphrase-file", "", "encrypt with the passphrase in this file ('-': stdin)")
	f.BoolVar(&force, "force", false, "overwrite --out if it exists")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	c.MarkFlagRequired("provider")
	c.MarkFlagRequired("out")
	return c
}

func tenantNote(cfg provider.Config) string {
	if cfg.Tenant == "" {
		return ""
	}
	return ", tenant " + cfg.Tenant
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// explainFileError turns credfile's errors into what the user should do.
func explainFileError(path string, err error) error {
	var untrusted *credfile.UntrustedSignerError
	advice := ""
	switch {
	case errors.Is(err, credfile.ErrDamaged):
		advice = "ask the administrator for a fresh copy"
	case errors.Is(err, credfile.ErrNewerVersion):
		advice = "install a newer bluemoon"
	case errors.Is(err, credfile.ErrNotCredentialFile), errors.Is(err, credfile.ErrTooLarge):
		advice = "check that you chose the file the administrator sent (" + credfile.Extension + ")"
	case errors.Is(err, credfile.ErrWrongPassphrase):
		advice = "check the passphrase the administrator gave you"
	case errors.Is(err, credfile.ErrPassphraseRequired):
		advice = "give it with --passphrase-file FILE"
	case errors.As(err, &untrusted):
		advice = "someone else made this file, or --trust is wrong; ask the administrator"
	default:
		return fmt.Errorf("%s: %w; nothing was imported", path, err)
	}
	return exitcode.Usagef("%s: %w; nothing was imported (%s)", path, err, advice)
}
