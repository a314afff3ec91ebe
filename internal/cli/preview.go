package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/home"
)

func init() { register(previewCmd) }

func previewCmd(app *App) *cobra.Command {
	var in core.PreviewInput
	var out string
	cmd := &cobra.Command{
		Use:   "preview",
		Short: "Write the exact message one recipient of a list would get, as an .eml file",
		Long: `Renders the message for the recipient on row N of the list (the header is row 1, as a
spreadsheet shows it, so the first recipient is row 2) and writes it as an .eml file that any
mail program opens ('--out -' writes it to standard output). Nothing is sent.`,
		Args: noArgs,
		RunE: app.run(func(ctx context.Context, svc *core.Service, _ []string) error {
			if out == "" {
				return exitcode.Usagef("--out FILE.eml is required")
			}
			toStdout := out == "-" // the message alone on stdout; what was done on stderr
			if !toStdout {
				if err := home.CheckOutputFile(out); err != nil {
					return exitcode.Usagef("--out %s: %v", out, err)
				}
			}
			res, err := svc.Preview(ctx, in)
			if err != nil {
				return err
			}
			say := app.Printf
			if toStdout {
				if _, err := app.Stdout.Write(res.EML); err != nil {
					return err
				}
				say = app.Warnf
				say("Wrote the message for row %d (%s), %d bytes, to standard output\n", res.Row, res.To, len(res.EML))
			} else {
				if err := home.WriteFileAtomic(out, res.EML, 0o644); err != nil {
					return err
				}
				say("Wrote the message for row %d (%s), %d bytes, to %s\n", res.Row, res.To, len(res.EML), out)
			}
			if res.Note != "" {
				say("Note: this message %s.\n", res.Note)
			}
			return nil
		}),
	}
	core.BindListFlags(cmd.Flags(), &in.List)
	core.BindMessageFlags(cmd.Flags(), &in.Message)
	cmd.Flags().IntVar(&in.Row, "row", 2, "the row of the list (the header is row 1; the first recipient is row 2)")
	cmd.Flags().StringVar(&out, "out", "", "the .eml file to write, or - for standard output (required)")
	cmd.Flags().StringVar(&in.Account, "account", "", "the sender account (for From)")
	cmd.Flags().StringVar(&in.From, "from", "", "sender address when no --account is given")
	return cmd
}
