package cli

import (
	"bytes"
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/home"
	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

func init() { register(previewCmd) }

func previewCmd(app *App) *cobra.Command {
	var lf listFlags
	var tf templateFlags
	var acctName, from, out string
	var row int
	cmd := &cobra.Command{
		Use:   "preview",
		Short: "Write the exact message one recipient of a list would get, as an .eml file",
		Long: `Renders the message for the recipient on row N of the list (the header is row 1, as a
spreadsheet shows it, so the first recipient is row 2) and writes it as an .eml file that any
mail program opens. Nothing is sent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			lo, err := lf.options()
			if err != nil {
				return err
			}
			if out == "" {
				return exitcode.Usagef("--out FILE.eml is required")
			}
			if row < 2 {
				return exitcode.Usagef("--row %d: the header is row 1; the first recipient is row 2", row)
			}
			acct := &account.Account{From: from}
			if acctName != "" {
				db, err := app.DB(ctx)
				if err != nil {
					return err
				}
				if acct, err = (&account.Store{DB: db.DB}).Get(ctx, acctName); err != nil {
					return exitcode.Usagef("%w", err)
				}
			} else if from == "" {
				return exitcode.Usagef("give --account NAME (or --from ADDRESS) for the sender")
			}
			spec, atts, err := tf.spec(acct)
			if err != nil {
				return err
			}
			r, err := recipients.Open(lf.file, lo)
			if err != nil {
				return exitcode.Usagef("%w", err)
			}
			defer r.Close()
			merge.DefaultAttachDir(&spec, lf.file)
			tpl, err := merge.Compile(spec, r.Header(), r.EmailIndex(), atts)
			if err != nil {
				return exitcode.Usagef("%w", err)
			}
			last := 1
			for {
				rec, err := r.Next()
				if err == io.EOF {
					return exitcode.Usagef("the list has no row %d (its last row is %d)", row, last)
				}
				last = rec.Number
				if rec.Number < row {
					continue
				}
				if rec.Number > row {
					return exitcode.Usagef("row %d is blank", row)
				}
				var re *recipients.RowError
				if errors.As(err, &re) {
					return exitcode.Usagef("%w", err)
				}
				if err != nil {
					return err
				}
				var c merge.Content
				if err := tpl.NewRenderer().Render(rec.Fields, &c); err != nil {
					return exitcode.Usagef("row %d, %w", row, err)
				}
				var buf bytes.Buffer
				if err := tpl.Compose(&c, merge.Envelope{}, &buf); err != nil {
					return err
				}
				if err := home.WriteFileAtomic(out, buf.Bytes(), 0o644); err != nil {
					return err
				}
				app.Printf("Wrote the message for row %d (%s), %d bytes, to %s\n", row, c.To, buf.Len(), out)
				if c.FellBack != nil {
					app.Printf("Note: this message %s.\n", merge.FallbackNote(c.FellBack))
				}
				return nil
			}
		},
	}
	lf.add(cmd)
	tf.add(cmd)
	cmd.Flags().IntVar(&row, "row", 2, "the row of the list (the header is row 1; the first recipient is row 2)")
	cmd.Flags().StringVar(&out, "out", "", "the .eml file to write (required)")
	cmd.Flags().StringVar(&acctName, "account", "", "the sender account (for From)")
	cmd.Flags().StringVar(&from, "from", "", "sender address when no --account is given")
	return cmd
}
