package cli

import (
	"context"
	"fmt"
	"regexp"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

func init() { register(accountCmd) }

func accountCmd(app *App) *cobra.Command {
	c := &cobra.Command{
		Use:   "account",
		Short: "Manage sender accounts (the mailboxes deliveries leave from)",
	}
	c.AddCommand(accountAddCmd(app), accountEditCmd(app), accountListCmd(app),
		accountShowCmd(app), accountRemoveCmd(app))
	return c
}

// accountEnv is what the account commands work with.
type accountEnv struct {
	accounts *account.Store
	creds    *credstore.Store
	secrets  *secrets.Store
}

func openAccountEnv(ctx context.Context, app *App) (*accountEnv, error) {
	cs, err := credentialsStore(ctx, app)
	if err != nil {
		return nil, err
	}
	return &accountEnv{accounts: &account.Store{DB: cs.DB}, creds: cs, secrets: cs.Secrets}, nil
}

// openAccount opens the environment and the named account; an unknown name
// is the user's mistake (exit 2).
func openAccount(ctx context.Context, app *App, name string) (*accountEnv, *account.Account, error) {
	env, err := openAccountEnv(ctx, app)
	if err != nil {
		return nil, nil, err
	}
	a, err := env.accounts.Get(ctx, name)
	if err != nil {
		return nil, nil, usageIfNotFound(err, account.ErrNotFound)
	}
	return env, a, nil
}

func accountAddCmd(app *App) *cobra.Command {
	var fl accountFlags
	c := &cobra.Command{
		Use:   "add NAME --from ADDR [--credentials NAME | --smtp HOST:PORT --auth plain|login|none ...]",
		Short: "Add a sender account",
		Long: `Add a sender account. With --credentials naming an imported google or microsoft
file, the SMTP server, security, auth (xoauth2) and sending limits are filled in
(smtp.gmail.com:465 tls; smtp.office365.com:587 starttls) unless given.
Otherwise give --smtp and --auth; --security defaults to tls on port 465 and
starttls elsewhere.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := openAccountEnv(cmd.Context(), app)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if _, err := env.accounts.Get(ctx, args[0]); err == nil {
				return exitcode.Usagef("account %q already exists: change it with 'bluemoon account edit %s'", args[0], args[0])
			}
			if err := validateAccountName(args[0]); err != nil {
				return err
			}
			a := &account.Account{Name: args[0], ConfirmReauth: true}
			if err := fl.apply(ctx, app, env, cmd, a, true); err != nil {
				return err
			}
			if err := saveAccount(ctx, env, &fl, a); err != nil {
				return err
			}
			if via := a.SendsVia(); via.API() {
				app.Printf("Added account %q: %s via %s (auth %s).\n", a.Name, a.From, via, a.Auth)
			} else {
				app.Printf("Added account %q: %s via %s (%s, auth %s).\n", a.Name, a.From, a.SMTPAddr(), a.Security, a.Auth)
			}
			if a.Auth == account.AuthXOAuth2 {
				app.Printf("Sign in once before the first delivery (a test send does it).\n")
			}
			return nil
		},
	}
	fl.register(c)
	return c
}

func accountEditCmd(app *App) *cobra.Command {
	var fl accountFlags
	c := &cobra.Command{
		Use:   "edit NAME [flags of 'account add']",
		Short: "Change a sender account (only the flags given)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			env, a, err := openAccount(ctx, app, args[0])
			if err != nil {
				return err
			}
			if err := fl.apply(ctx, app, env, cmd, a, false); err != nil {
				return err
			}
			if err := saveAccount(ctx, env, &fl, a); err != nil {
				return err
			}
			app.Printf("Saved account %q.\n", a.Name)
			return nil
		},
	}
	fl.register(c)
	return c
}

// saveAccount stores a, then its password (given, or dropped when the
// account no longer uses one).
func saveAccount(ctx context.Context, env *accountEnv, fl *accountFlags, a *account.Account) error {
	if err := env.accounts.Put(ctx, a); err != nil {
		return exitcode.Usagef("%w", err)
	}
	switch {
	case fl.password != "":
		return account.SetPassword(env.secrets, a.Name, fl.password)
	case !usesPassword(a.Auth):
		return env.secrets.Delete(account.PasswordSecret(a.Name))
	}
	return nil
}

func usesPassword(m account.AuthMethod) bool { return m == account.AuthPlain || m == account.AuthLogin }

var accountNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$`)

func validateAccountName(name string) error {
	if !accountNameRE.MatchString(name) {
		return exitcode.Usagef("account name %q: use 1-64 letters, digits, '.', '_', '-', '+' or '@', starting with a letter or digit", name)
	}
	return nil
}

func accountListCmd(app *App) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List sender accounts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, err := openAccountEnv(cmd.Context(), app)
			if err != nil {
				return err
			}
			list, err := env.accounts.List(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				views := []accountView{}
				for _, a := range list {
					views = append(views, viewAccount(env, a))
				}
				return app.PrintJSON(views)
			}
			if len(list) == 0 {
				app.Printf("No accounts. Add one with 'bluemoon account add NAME --from ADDRESS --credentials NAME'.\n")
				return nil
			}
			tw := tabwriter.NewWriter(app.Stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tFROM\tSMTP\tSECURITY\tAUTH\tCREDENTIALS")
			for _, a := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Name, a.From, a.SendsTo(), a.Security, a.Auth, orDash(a.Credentials))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// accountView is an account as shown: whether a password is stored, never
// the password.
type accountView struct {
	*account.Account
	PasswordSet bool `json:"password_set"`
}

func viewAccount(env *accountEnv, a *account.Account) accountView {
	has, _ := account.HasPassword(env.secrets, a.Name)
	return accountView{Account: a, PasswordSet: has}
}

func accountShowCmd(app *App) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a sender account (never its password)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, a, err := openAccount(cmd.Context(), app, args[0])
			if err != nil {
				return err
			}
			v := viewAccount(env, a)
			if asJSON {
				return app.PrintJSON(v)
			}
			password := "-"
			if usesPassword(a.Auth) || v.PasswordSet {
				password = setOrNone(v.PasswordSet)
			}
			l := a.Limits
			tw := tabwriter.NewWriter(app.Stdout, 0, 0, 2, ' ', 0)
			for _, row := range [][2]string{
				{"name", a.Name}, {"from", a.From}, {"from name", a.FromName},
				{"via", string(a.SendsVia())},
				{"smtp", a.SMTPAddr()}, {"security", string(a.Security)}, {"auth", string(a.Auth)},
				{"credentials", a.Credentials}, {"username", a.LoginName()}, {"password", password},
				{"client certificate", a.ClientCert}, {"client key", a.ClientKey}, {"CA file", a.CAFile},
				{"confirm re-sign-in", fmt.Sprint(a.ConfirmReauth)},
				{"limits", fmt.Sprintf("%s/minute, %s/day, %s connections, %s per connection",
					limitText(l.PerMinute), limitText(l.PerDay), limitText(l.Connections), limitText(l.PerConnection))},
			} {
				fmt.Fprintf(tw, "%s:\t%s\n", row[0], orDash(row[1]))
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func limitText(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

func accountRemoveCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a sender account, its password and its sign-in tokens",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := openAccountEnv(cmd.Context(), app)
			if err != nil {
				return err
			}
			err = env.accounts.Remove(cmd.Context(), args[0])
			if err != nil {
				return usageIfNotFound(err, account.ErrNotFound)
			}
			// A later account of the same name must not inherit them. The
			// tokens are deleted under their lock: a refresh in flight in
			// another process would otherwise save them again just after.
			unlock, err := env.secrets.Lock(cmd.Context(), account.TokenSecret(args[0]))
			if err != nil {
				return err
			}
			defer unlock()
			for _, s := range []string{account.PasswordSecret(args[0]), account.TokenSecret(args[0])} {
				if err := env.secrets.Delete(s); err != nil {
					return err
				}
			}
			app.Printf("Removed account %q.\n", args[0])
			return nil
		},
	}
}
