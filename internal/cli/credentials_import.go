package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

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
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if name == "" {
				name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
			}
			if err := credstore.ValidateName(name); err != nil {
				return exitcode.Usagef("--name: %w", err)
			}
			data, err := credfile.ReadFile(path)
			if err != nil {
				if errors.Is(err, credfile.ErrTooLarge) {
					return explainFileError(path, err)
				}
				return exitcode.Usagef("cannot read %w", err)
			}
			env, err := credfile.Parse(data)
			if err != nil {
				return explainFileError(path, err)
			}
			fp := env.Fingerprint()
			app.Warnf("%s is signed by %s\n", path, fp)
			if err := env.CheckTrust(trust); err != nil {
				return explainFileError(path, err)
			}
			var pass string
			if env.NeedsPassphrase() {
				if pass, err = importPassphrase(app, passFile); err != nil {
					return err
				}
			} else if passFile != "" {
				app.Warnf("note: %s has no passphrase; --passphrase-file is not needed\n", path)
			}
			cfg, err := env.Decrypt([]byte(pass))
			if err != nil {
				return explainFileError(path, err)
			}
			custom := cfg.CustomEndpoints()
			for _, e := range custom {
				app.Warnf("not a %s default endpoint: %s\n", cfg.Provider, e)
			}
			if len(custom) > 0 && !acceptCustom {
				return exitcode.Usagef("%s: %d endpoint(s) are not %s's defaults (listed above) and could send your sign-in to someone else; "+
					"nothing was imported. Import with --accept-custom-endpoints only if your administrator confirms them",
					path, len(custom), cfg.Provider)
			}
			cs, err := credentialsStore(cmd.Context(), app)
			if err != nil {
				return err
			}
			if trust == "" {
				warnNewSigner(app, cs, cmd, fp)
			}
			err = cs.Import(cmd.Context(), name, cfg, credstore.ImportOptions{Signer: fp, Replace: replace})
			if errors.Is(err, credstore.ErrExists) {
				return exitcode.Usagef("%w; nothing was imported", err)
			}
			if err != nil {
				return err
			}
			if asJSON {
				return app.PrintJSON(map[string]any{"name": name, "provider": cfg.Provider, "tenant": cfg.Tenant,
					"signer": fp, "passphrase": env.NeedsPassphrase(), "custom_endpoints": nonNil(custom)})
			}
			app.Printf("Imported credentials %q (%s%s), signed by %s.\n", name, cfg.Provider, tenantNote(cfg), fp)
			app.Printf("Use them with: bluemoon account add NAME --from ADDRESS --credentials %s\n", name)
			return nil
		},
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

// warnNewSigner points out a file signed by a different key than the
// credentials already imported: a new admin key, or someone else's file.
func warnNewSigner(app *App, cs *credstore.Store, cmd *cobra.Command, fp string) {
	list, err := cs.List(cmd.Context())
	if err != nil {
		return
	}
	for _, c := range list {
		if c.Signer != "" && c.Signer != fp {
			app.Warnf("note: credentials %q were signed by %s, this file by another key; if you did not expect that, ask your administrator\n", c.Name, c.Signer)
			return
		}
	}
}

func credListCmd(app *App) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List imported credentials",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs, err := credentialsStore(cmd.Context(), app)
			if err != nil {
				return err
			}
			list, err := cs.List(cmd.Context())
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
			tw := tabwriter.NewWriter(app.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tPROVIDER\tTENANT\tCLIENT SECRET\tSIGNER\tIMPORTED")
			for _, c := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, c.Provider, orDash(c.Config.Tenant),
					setOrNone(c.HasSecret), c.Signer, c.ImportedAt.Local().Format(time.DateTime))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func setOrNone(b bool) string {
	if b {
		return "set"
	}
	return "none"
}

func credShowCmd(app *App) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show NAME",
		Short: "Show imported credentials (never the client secret)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, err := credentialsStore(cmd.Context(), app)
			if err != nil {
				return err
			}
			cr, err := cs.Get(cmd.Context(), args[0])
			if err != nil {
				return usageIfNotFound(err, credstore.ErrNotFound)
			}
			if asJSON {
				return app.PrintJSON(cr)
			}
			cfg := cr.Config
			tw := tabwriter.NewWriter(app.Stdout, 0, 0, 2, ' ', 0)
			for _, row := range [][2]string{
				{"name", cr.Name}, {"provider", string(cr.Provider)}, {"tenant", cfg.Tenant},
				{"client ID", cfg.ClientID}, {"client secret", setOrNone(cr.HasSecret)},
				{"authorization endpoint", cfg.AuthEndpoint}, {"authorization scope", cfg.AuthScope},
				{"token endpoint", cfg.TokenEndpoint}, {"token scope", cfg.TokenScope},
				{"redirect URI", cfg.RedirectURI}, {"device endpoint", cfg.DeviceEndpoint},
				{"revoke endpoint", cfg.RevokeEndpoint}, {"userinfo endpoint", cfg.UserinfoURL},
				{"API endpoint", cfg.APIEndpoint}, {"API scope", cfg.APIScope},
				{"signer", cr.Signer}, {"imported", cr.ImportedAt.Local().Format(time.DateTime)},
			} {
				fmt.Fprintf(tw, "%s:\t%s\n", row[0], orDash(row[1]))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			for _, e := range cfg.CustomEndpoints() {
				app.Printf("not a %s default: %s\n", cfg.Provider, e)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func credRemoveCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove imported credentials and their client secret",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cs, err := credentialsStore(cmd.Context(), app)
			if err != nil {
				return err
			}
			err = cs.Remove(cmd.Context(), args[0])
			var inUse *credstore.InUseError
			if errors.Is(err, credstore.ErrNotFound) || errors.As(err, &inUse) {
				return exitcode.Usagef("%w", err)
			}
			if err != nil {
				return err
			}
			app.Printf("Removed credentials %q.\n", args[0])
			return nil
		},
	}
}
