package cli

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/credfile"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/fileerr"
	"github.com/bluemoon-mail/bluemoon/internal/home"
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
		return "", exitcode.Usagef("%s: %w", flag, fileerr.Explain(err))
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
	APIEndpoint   string        `json:"api_endpoint"`
	APIScope      string        `json:"api_scope"`
}

func credDefaultsCmd(app *App) *cobra.Command {
	var kind, tenant string
	var asJSON bool
	c := &cobra.Command{
		Use:   "defaults --provider google|microsoft|generic [--tenant T]",
		Short: "Print a provider's default settings (the guide's 既定値の設定)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := core.CredentialDefaults(kind, tenant)
			if err != nil {
				return err
			}
			v := defaultsView{d.Provider, d.Tenant, d.ClientID, d.ClientSecret, d.AuthEndpoint, d.AuthScope,
				d.TokenEndpoint, d.TokenScope, d.RedirectURI, d.APIEndpoint, d.APIScope}
			if asJSON {
				return app.PrintJSON(v)
			}
			return printRows(app, [][2]string{
				{"provider", string(v.Provider)}, {"tenant", v.Tenant}, {"client_id", v.ClientID},
				{"client_secret", v.ClientSecret}, {"auth_endpoint", v.AuthEndpoint}, {"auth_scope", v.AuthScope},
				{"token_endpoint", v.TokenEndpoint}, {"token_scope", v.TokenScope}, {"redirect_uri", v.RedirectURI},
				{"api_endpoint", v.APIEndpoint}, {"api_scope", v.APIScope},
			})
		},
	}
	c.Flags().StringVar(&kind, "provider", "", "google, microsoft or generic (required)")
	c.Flags().StringVar(&tenant, "tenant", "", "Microsoft tenant: "+provider.TenantForms)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.MarkFlagRequired("provider")
	return c
}

func credCreateCmd(app *App) *cobra.Command {
	var in core.CreateInput
	var secretFile, out, passFile string
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
		Args: noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			var err error
			if secretFile != "" {
				if in.ClientSecret != "" {
					return exitcode.Usagef("give --client-secret or --client-secret-file, not both")
				}
				if in.ClientSecret, err = readSecretFile(app, "--client-secret-file", secretFile); err != nil {
					return err
				}
			}
			if err := home.CheckOutputFile(out); err != nil {
				return exitcode.Usagef("--out %s: %v", out, err)
			}
			if _, err := os.Stat(out); err == nil && !force {
				return exitcode.Usagef("--out %s already exists: choose another name or add --force", out)
			}
			if passFile != "" {
				if in.Passphrase, err = readSecretFile(app, "--passphrase-file", passFile); err != nil {
					return err
				}
			}
			data, f, err := svc.CreateCredentialFile(ctx, in)
			if err != nil {
				return err
			}
			if err := home.WriteFileAtomic(out, data, 0o600); err != nil {
				return err
			}
			for _, w := range f.Warnings {
				app.Warnf("warning: %s\n", w.Message)
			}
			mode := "none"
			if f.Passphrase {
				mode = "passphrase"
			}
			if asJSON {
				return app.PrintJSON(map[string]any{"file": out, "provider": f.Provider, "tenant": f.Tenant,
					"encryption": mode, "signer": f.Signer, "new_signing_key": f.NewSigningKey,
					"custom_endpoints": nonNil(f.CustomEndpoints)})
			}
			app.Printf("Wrote %s (%s%s).\n", out, f.Provider, tenantNote(f.Tenant))
			if f.NewSigningKey {
				app.Printf("Made a new admin signing key: %s (keep it: sign every later file with it).\n", f.SigningKeyFile)
			}
			app.Printf("Signed by %s\n", f.Signer)
			app.Printf("Users can pin it: bluemoon credentials import %s --trust %s\n", out, f.Signer)
			if f.Passphrase {
				app.Printf("Encrypted with your passphrase: give it to users separately from the file.\n")
			} else {
				app.Printf("No passphrase: the settings are hidden from casual eyes only; anyone with bluemoon can read them.\n")
			}
			for _, e := range f.CustomEndpoints {
				app.Warnf("note: not a %s default, users must accept it: %s\n", f.Provider, e)
			}
			return nil
		}),
	}
	f := c.Flags()
	f.StringVar(&in.Provider, "provider", "", "google, microsoft or generic (required)")
	f.StringVar(&in.Tenant, "tenant", "", "Microsoft tenant (default organizations): "+provider.TenantForms)
	f.StringVar(&in.ClientID, "client-id", "", "client ID of the app registration (required)")
	f.StringVar(&in.ClientSecret, "client-secret", "", "client secret (required for google; microsoft desktop apps have none)")
	f.StringVar(&secretFile, "client-secret-file", "", "read the client secret from this file ('-': stdin) instead")
	f.StringVar(&in.AuthEndpoint, "auth-endpoint", "", "authorization endpoint (default: the provider's)")
	f.StringVar(&in.AuthScope, "auth-scope", "", "scopes sent to the authorization endpoint")
	f.StringVar(&in.TokenEndpoint, "token-endpoint", "", "token endpoint (default: the provider's)")
	f.StringVar(&in.TokenScope, "token-scope", "", "scopes sent to the token endpoint")
	f.StringVar(&in.RedirectURI, "redirect-uri", "", "redirect URI (default "+provider.DefaultRedirectURI+")")
	f.StringVar(&in.DeviceEndpoint, "device-endpoint", "", "device authorization endpoint, for 'login --device' (default: the provider's, if any)")
	f.StringVar(&in.RevokeEndpoint, "revoke-endpoint", "", "token revocation endpoint, for 'logout' (default: the provider's, if any)")
	f.StringVar(&in.UserinfoEndpoint, "userinfo-endpoint", "", "OpenID userinfo endpoint, to learn who signed in (default: the provider's, if any)")
	f.StringVar(&in.Issuer, "issuer", "", "generic: an OpenID provider's issuer URL; the endpoints not given are read from its /.well-known/openid-configuration")
	f.StringVar(&in.APIEndpoint, "api-endpoint", "", "base URL of the mail API for accounts --via graph / gmail-api "+
		"(default: the provider's; a national cloud needs its own, e.g. https://graph.microsoft.us)")
	f.StringVar(&in.APIScope, "api-scope", "", "scope of the mail API's token (default: the provider's; Microsoft: Graph's Mail.Send)")
	f.StringVar(&out, "out", "", "file to write, e.g. acme-google"+credfile.Extension+" (required)")
	f.StringVar(&passFile, "passphrase-file", "", "encrypt with the passphrase in this file ('-': stdin)")
	f.BoolVar(&force, "force", false, "overwrite --out if it exists")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	c.MarkFlagRequired("provider")
	c.MarkFlagRequired("out")
	return c
}

func tenantNote(tenant string) string {
	if tenant == "" {
		return ""
	}
	return ", tenant " + tenant
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
