package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/credfile"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

func credImportCmd(app *App) *cobra.Command {
	var name, passFile, trust string
	var acceptCustom, replace, asJSON bool
	c := &cobra.Command{
		Use:   "import FILE [--name N] [--passphrase-file F] [--trust FINGERPRINT]",
		Short: "Import a credential file from your administrator",
		Long: `Import a credential file. bluemoon checks that the file is complete and unmodified,
shows the fingerprint of the key that signed it (--trust pins the one you expect),
and refuses a file whose endpoints are not the provider's defaults unless you add
--accept-custom-endpoints: such a file could send your sign-in to someone else.
Nothing is imported when any check fails.`,
		Args: exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			path := args[0]
			if name == "" {
				name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
			}
			data, err := core.ReadCredentialFile(path)
			if err != nil {
				return err
			}
			info, err := svc.InspectCredentialFile(ctx, path, data, "")
			if err != nil {
				return err
			}
			app.Warnf("%s is signed by %s\n", path, info.Signer)
			if err := info.CheckTrust(trust); err != nil {
				return err
			}
			var pass string
			if info.NeedsPassphrase {
				if pass, err = importPassphrase(app, passFile); err != nil {
					return err
				}
			} else if passFile != "" {
				app.Warnf("note: %s has no passphrase; --passphrase-file is not needed\n", path)
			}
			res, err := svc.ImportCredentialFile(ctx, core.ImportInput{Source: path, Data: data, Passphrase: pass, Name: name,
				Trust: trust, AcceptCustomEndpoints: acceptCustom, Replace: replace})
			var custom *core.CustomEndpointsError
			switch {
			case errors.As(err, &custom):
				printCustomEndpoints(app, string(custom.Provider), custom.Endpoints)
				return err
			case err != nil:
				return err
			}
			printCustomEndpoints(app, string(res.Provider), res.CustomEndpoints)
			for _, w := range res.Warnings {
				app.Warnf("note: %s\n", w.Message)
			}
			if asJSON {
				return app.PrintJSON(map[string]any{"name": res.Name, "provider": res.Provider, "tenant": res.Tenant,
					"signer": res.Signer, "passphrase": res.Passphrase, "custom_endpoints": nonNil(res.CustomEndpoints)})
			}
			app.Printf("Imported credentials %q (%s%s), signed by %s.\n", res.Name, res.Provider, tenantNote(res.Tenant), res.Signer)
			app.Printf("Use them with: bluemoon account add NAME --from ADDRESS --credentials %s\n", res.Name)
			return nil
		}),
	}
	f := c.Flags()
	f.StringVar(&name, "name", "", "name to import under (default: the file name without extension)")
	f.StringVar(&passFile, "passphrase-file", "", "file holding the passphrase ('-': stdin)")
	f.StringVar(&trust, "trust", "", "refuse the file unless it is signed by this key fingerprint (SHA256:...)")
	f.BoolVar(&acceptCustom, "accept-custom-endpoints", false, "import even if endpoints differ from the provider's defaults")
	f.BoolVar(&replace, "replace", false, "replace credentials of the same name")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func printCustomEndpoints(app *App, provider string, endpoints []string) {
	for _, e := range endpoints {
		app.Warnf("not a %s default endpoint: %s\n", provider, e)
	}
}

// importPassphrase reads the passphrase from --passphrase-file, or asks at
// a terminal; a script without the flag gets an error, never a wait.
func importPassphrase(app *App, passFile string) (string, error) {
	if passFile != "" {
		return readSecretFile(app, "--passphrase-file", passFile)
	}
	if !app.IsTerminal() {
		return "", exitcode.Usagef("%w: give it with --passphrase-file FILE; nothing was imported", credfile.ErrPassphraseRequired)
	}
	app.Warnf("Passphrase: ")
	b, err := term.ReadPassword(int(os.Stdin.Fd()))
	app.Warnf("\n")
	if err != nil {
		return "", fmt.Errorf("read passphrase: %w", err)
	}
	if len(b) == 0 {
		return "", exitcode.Usagef("empty passphrase; nothing was imported")
	}
	return string(b), nil
}

func credListCmd(app *App) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List imported credentials",
		Args:  noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			list, err := svc.Credentials(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				if list == nil {
					list = []*credstore.Credential{}
				}
				return app.PrintJSON(list)
			}
			if len(list) == 0 {
				app.Printf("No credentials imported. Import your administrator's file with 'bluemoon credentials import FILE'.\n")
				return nil
			}
			tw := newTable(app.Stdout, "NAME", "PROVIDER", "TENANT", "CLIENT SECRET", "SIGNER", "IMPORTED")
			for _, c := range list {
				tw.Row(c.Name, c.Provider, orDash(c.Config.Tenant),
					setOrNone(c.HasSecret), c.Signer, app.when(c.ImportedAt))
			}
			return tw.Flush()
		}),
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func credShowCmd(app *App) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show NAME",
		Short: "Show imported credentials (never the client secret)",
		Args:  exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			cr, err := svc.Credential(ctx, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return app.PrintJSON(cr)
			}
			cfg := cr.Config
			if err := printRows(app, [][2]string{
				{"name", cr.Name}, {"provider", string(cr.Provider)}, {"tenant", cfg.Tenant},
				{"client ID", cfg.ClientID}, {"client secret", setOrNone(cr.HasSecret)},
				{"authorization endpoint", cfg.AuthEndpoint}, {"authorization scope", cfg.AuthScope},
				{"token endpoint", cfg.TokenEndpoint}, {"token scope", cfg.TokenScope},
				{"redirect URI", cfg.RedirectURI}, {"device endpoint", cfg.DeviceEndpoint},
				{"revoke endpoint", cfg.RevokeEndpoint}, {"userinfo endpoint", cfg.UserinfoURL},
				{"API endpoint", cfg.APIEndpoint}, {"API scope", cfg.APIScope},
				{"signer", cr.Signer}, {"imported", app.when(cr.ImportedAt)},
			}); err != nil {
				return err
			}
			for _, e := range cfg.CustomEndpoints() {
				app.Printf("not a %s default: %s\n", cfg.Provider, e)
			}
			return nil
		}),
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func credRemoveCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove imported credentials and their client secret",
		Args:  exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			if err := svc.RemoveCredentials(ctx, args[0]); err != nil {
				return err
			}
			app.Printf("Removed credentials %q.\n", args[0])
			return nil
		}),
	}
}
