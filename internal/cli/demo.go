package cli

import (
	"context"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/demo"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

func init() { register(demoCmd) }

func demoCmd(app *App) *cobra.Command {
	var n int
	var via string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole job on stand-in servers: credential file, sign-in, a personalised delivery, its report",
		Long: `demo shows bluemoon end to end without touching the internet. In this process,
on 127.0.0.1, it starts a Google-like and a Microsoft-like sign-in server and an
SMTP server for each that checks their OAuth tokens. Then, with the same commands
you would use, it makes and imports a credential file for each provider, adds the
accounts, signs them in (its own browser follows the sign-in address and the
stand-ins consent by themselves), and delivers a
personalised message to each recipient of a sample list with Japanese and
English names: through the Microsoft account in ISO-2022-JP from a Shift_JIS
list, through the Google account in UTF-8. It ends with the reports and one
delivered message decoded. With --via graph the Microsoft account sends
through a Microsoft Graph stand-in instead of SMTP, with --via gmail-api the
Google account through a Gmail API stand-in (--via graph,gmail-api: both).

Without --home everything lives in a temporary folder that is removed at the
end; with --home the accounts and deliveries stay there to explore.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 2 {
				return exitcode.Usagef("--recipients must be at least 2 (got %d)", n)
			}
			vias, err := demo.ParseVia(via)
			if err != nil {
				return exitcode.Usagef("%w", err)
			}
			env := demo.Env{Out: app.Stdout, Err: app.Stderr, Bluemoon: app.demoStep, Via: vias}
			if app.HomeFlag != "" {
				if env.Home, err = app.Home(); err != nil {
					return err
				}
			}
			return demo.Run(cmd.Context(), env, n)
		},
	}
	cmd.Flags().IntVar(&n, "recipients", 1000, "how many sample recipients (split between the two accounts)")
	cmd.Flags().StringVar(&via, "via", "smtp", "smtp, graph (the Microsoft account sends through Microsoft Graph), "+
		"gmail-api (the Google account through the Gmail API), or both: graph,gmail-api")
	return cmd
}

// demoStep runs one bluemoon command of the demo, as a script would: no
// terminal, nothing to read.
func (a *App) demoStep(ctx context.Context, home string, out, errOut io.Writer, args ...string) int {
	return Run(ctx, &App{HomeFlag: home, Stdin: strings.NewReader(""), Stdout: out, Stderr: errOut,
		IsTerminal: func() bool { return false }}, args)
}
