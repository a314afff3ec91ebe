package cli

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

func init() { register(suppressCmd) }

func suppressCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "suppress", Short: "Addresses never mailed (unsubscribed, bounced, asked not to be)"}
	var reason string
	add := &cobra.Command{
		Use: "add ADDRESS...", Short: "Add addresses to the suppression list", Args: minArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			for _, a := range args {
				added, err := svc.Suppress(ctx, a, reason)
				if err != nil {
					return err
				}
				if added {
					app.Printf("Suppressed %s\n", a)
				} else {
					app.Printf("%s was already suppressed\n", a)
				}
			}
			return nil
		}),
	}
	add.Flags().StringVar(&reason, "reason", "", "why (kept with the entry)")
	var list core.ListInput
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Add every address of a file: a list with an email column, or one address per line",
		Args:  exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			res, err := svc.ImportSuppressions(ctx, args[0], reason, list)
			if err != nil {
				return err
			}
			for _, r := range res.Rejected {
				app.Warnf("%s\n", r)
			}
			app.Printf("Suppressed %d new address(es); %d already were; %d line(s) not addresses.\n", res.Added, res.Already, len(res.Rejected))
			return nil
		}),
	}
	imp.Flags().StringVar(&reason, "reason", "", "why (kept with each entry)")
	imp.Flags().StringVar(&list.EmailColumn, "email-column", "email", "the column holding the address")
	imp.Flags().StringVar(&list.Encoding, "encoding", "auto", "file encoding: auto, utf-8 or shift_jis")
	var asJSON bool
	ls := &cobra.Command{
		Use: "list", Short: "Print the suppression list", Args: noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			all := []recipients.Suppressed{}
			err := svc.Suppressed(ctx, func(e recipients.Suppressed) error {
				if asJSON {
					all = append(all, e)
					return nil
				}
				app.Printf("%s\t%s\t%s\n", e.Addr, e.AddedAt.Local().Format("2006-01-02"), e.Reason)
				return nil
			})
			if asJSON {
				return errors.Join(err, app.PrintJSON(all))
			}
			return err
		}),
	}
	ls.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	remove := &cobra.Command{
		Use: "remove ADDRESS...", Short: "Take addresses off the suppression list", Args: minArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			missing := 0
			for _, a := range args {
				ok, err := svc.Unsuppress(ctx, a)
				if err != nil {
					return err
				}
				if ok {
					app.Printf("Removed %s\n", a)
				} else {
					missing++
					app.Warnf("%s was not on the list\n", a)
				}
			}
			if missing > 0 {
				return exitcode.Usagef("%d address(es) were not suppressed", missing)
			}
			return nil
		}),
	}
	export := &cobra.Command{
		Use: "export", Short: "Print the suppression list as CSV (address, reason, date added)", Args: noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			return svc.SuppressionsCSV(ctx, app.Stdout)
		}),
	}
	cmd.AddCommand(add, imp, ls, remove, export)
	return cmd
}
