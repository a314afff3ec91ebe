package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
)

func deliveriesSaveCmd(app *App) *cobra.Command {
	var d saved.Delivery
	cmd := &cobra.Command{
		Use:   "save NAME --account A --recipients FILE --subject S (--text FILE | --html FILE) [--attach FILE]... [-- SEND-FLAGS...]",
		Short: "Save a delivery under a name, to run later with 'bluemoon run NAME'",
		Long: `Save everything 'bluemoon send' needs under NAME. File paths are stored as
absolute paths, so 'bluemoon run NAME' works from cron or Task Scheduler,
whatever folder they start in. Flags after "--" are passed to 'bluemoon send'
as they are. Saving under an existing name replaces it.`,
		Args: minArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if (dash == -1 && len(args) != 1) || dash > 1 {
				return exitcode.Usagef("give one NAME; flags for 'bluemoon send' go after \"--\"")
			}
			d.Name = args[0]
			if dash == 1 {
				d.SendArgs = args[1:]
			}
			svc, err := app.service(cmd.Context())
			if err != nil {
				return err
			}
			if err := svc.SaveDelivery(cmd.Context(), &d); err != nil {
				return err
			}
			app.Printf("saved delivery %s (account %s, list %s)\nrun it with: bluemoon run %s --unattended\n", d.Name, d.Account, d.Recipients, d.Name)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&d.Account, "account", "", "account to send through")
	f.StringVar(&d.Recipients, "recipients", "", "recipient list (CSV or TSV with a header row)")
	f.StringVar(&d.Subject, "subject", "", "subject (may use merge fields)")
	f.StringVar(&d.Text, "text", "", "plain-text body template file")
	f.StringVar(&d.HTML, "html", "", "HTML body template file")
	f.StringArrayVar(&d.Attach, "attach", nil, "file attached to every message (repeatable)")
	f.StringVar(&d.Charset, "charset", "", "utf-8 (default) or iso-2022-jp")
	f.StringVar(&d.EmailColumn, "email-column", "", "column holding the address (default email)")
	f.StringVar(&d.Encoding, "encoding", "", "list encoding (default: detected)")
	f.BoolVar(&d.SkipInvalid, "skip-invalid", false, "leave invalid rows out instead of refusing to start")
	addNotifyFlags(cmd, &d.Alert)
	return cmd
}

func deliveriesSavedCmd(app *App) *cobra.Command {
	var asJSON bool
	group := &cobra.Command{
		Use:   "saved",
		Short: "List, show or remove saved deliveries",
		Args:  noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			list, err := svc.SavedDeliveries(ctx)
			if err != nil {
				return err
			}
			if asJSON {
				if list == nil {
					list = []*saved.Delivery{}
				}
				return app.PrintJSON(list)
			}
			if len(list) == 0 {
				app.Printf("no saved deliveries (see 'bluemoon deliveries save --help')\n")
				return nil
			}
			tw := newTable(app.Stdout, "NAME", "ACCOUNT", "RECIPIENTS", "SUBJECT")
			for _, d := range list {
				tw.Row(d.Name, d.Account, d.Recipients, d.Subject)
			}
			return tw.Flush()
		}),
	}
	group.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	group.AddCommand(&cobra.Command{
		Use:   "show NAME",
		Short: "Show a saved delivery and the send command it runs",
		Args:  exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			d, err := svc.SavedDelivery(ctx, args[0])
			if err != nil {
				return err
			}
			if err := app.PrintJSON(d); err != nil {
				return err
			}
			app.Printf("runs: bluemoon %s\n", saved.Quote(d.Args()))
			return nil
		}),
	}, &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a saved delivery",
		Args:  exactArgs(1),
		RunE: app.run(func(ctx context.Context, svc *core.Service, args []string) error {
			if err := svc.RemoveSavedDelivery(ctx, args[0]); err != nil {
				return err
			}
			app.Printf("removed saved delivery %s\n", args[0])
			return nil
		}),
	})
	return group
}
