package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
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
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := fl.input(app, cmd)
			if err != nil {
				return err
			}
			ch, err := app.saveAccount(cmd, func(ctx context.Context, svc *core.Service) (*core.AccountChange, error) {
				return svc.AddAccount(ctx, args[0], in)
			})
			if err != nil {
				return err
			}
			a := ch.Account
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
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, err := fl.input(app, cmd)
			if err != nil {
				return err
			}
			ch, err := app.saveAccount(cmd, func(ctx context.Context, svc *core.Service) (*core.AccountChange, error) {
				return svc.EditAccount(ctx, args[0], in)
			})
			if err != nil {
				return err
			}
			app.Printf("Saved account %q.\n", ch.Account.Name)
			return nil
		},
	}
	fl.register(c)
	return c
}

// saveAccount runs an add or edit and prints its warnings.
func (a *App) saveAccount(cmd *cobra.Command, save func(context.Context, *core.Service) (*core.AccountChange, error)) (*core.AccountChange, error) {
	svc, err := a.service(cmd.Context())
	if err != nil {
		return nil, err
	}
	ch, err := save(cmd.Context(), svc)
	if err != nil {
		return nil, err
	}
	for _, w := range ch.Warnings {
		word := "warning"
		if w.Code == core.WarnViaChanged {
			word = "note" // what was done, not a risk
		}
		a.Warnf("%s: %s\n", word, w.Message)
	}
	return ch, nil
}

// accountView is an account as --json shows it: whether a password is
// stored, never the password.
type accountView struct {
	*account.Account
	PasswordSet bool `json:"password_set"`
}

func accountListCmd(app *App) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List sender accounts",
		Args:  noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			list, err := svc.Accounts(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				views := []accountView{}
				for _, a := range list {
					views = append(views, accountView{a.Account, a.PasswordSet})
				}
				return app.PrintJSON(views)
			}
			if len(list) == 0 {
				app.Printf("No accounts. Add one with 'bluemoon account add NAME --from ADDRESS --credentials NAME'.\n")
				return nil
			}
			tw := newTable(app.Stdout, "NAME", "FROM", "SMTP", "SECURITY", "AUTH", "CREDENTIALS")
			for _, a := range list {
				tw.Row(a.Name, a.From, a.SendsTo(), a.Security, a.Auth, orDash(a.Credentials))
			}
			return tw.Flush()
		}),
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func accountShowCmd(app *App) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a sender account (never its password)",
		Args:  exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			info, err := svc.Account(ctx, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return app.PrintJSON(accountView{info.Account, info.PasswordSet})
			}
			a := info.Account
			password := "-"
			if info.Kind == core.AuthPassword || info.PasswordSet {
				password = setOrNone(info.PasswordSet)
			}
			return printRows(app, [][2]string{
				{"name", a.Name}, {"from", a.From}, {"from name", a.FromName},
				{"via", string(a.SendsVia())},
				{"smtp", a.SMTPAddr()}, {"security", string(a.Security)}, {"auth", string(a.Auth)},
				{"credentials", a.Credentials}, {"username", a.LoginName()}, {"password", password},
				{"client certificate", a.ClientCert}, {"client key", a.ClientKey}, {"CA file", a.CAFile},
				{"confirm re-sign-in", fmt.Sprint(a.ConfirmReauth)},
				{"limits", limitsText(a.Limits)},
			})
		}),
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// printRows prints "key:  value" lines, aligned, "-" for empty values.
func printRows(app *App, rows [][2]string) error {
	tw := newTable(app.Stdout)
	for _, row := range rows {
		tw.Row(row[0]+":", orDash(row[1]))
	}
	return tw.Flush()
}

// limitsText is an account's limits as `account show` prints them (and
// the README's table of provider presets repeats).
func limitsText(l provider.Limits) string {
	size := "unlimited"
	if l.MaxMessageBytes > 0 {
		size = limitText(l.MaxMessageBytes) + " bytes"
		if l.MaxMessageBytes%(1<<20) == 0 {
			size = limitText(l.MaxMessageBytes>>20) + " MiB"
		}
	}
	return fmt.Sprintf("%s/minute, %s/day, %s connections, %s per connection, %s per message",
		limitText(l.PerMinute), limitText(l.PerDay), limitText(l.Connections), limitText(l.PerConnection), size)
}

var english = message.NewPrinter(language.English)

func limitText(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return english.Sprintf("%d", n) // 10,000
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func setOrNone(b bool) string {
	if b {
		return "set"
	}
	return "none"
}

func accountRemoveCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a sender account, its password and its sign-in tokens",
		Args:  exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			if err := svc.RemoveAccount(ctx, args[0]); err != nil {
				return err
			}
			app.Printf("Removed account %q.\n", args[0])
			return nil
		}),
	}
}
