package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

func init() { register(suppressCmd) }

func suppressCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{Use: "suppress", Short: "Addresses never mailed (unsubscribed, bounced, asked not to be)"}
	var reason string
	add := &cobra.Command{
		Use: "add ADDRESS...", Short: "Add addresses to the suppression list", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := app.DB(cmd.Context())
			if err != nil {
				return err
			}
			s := &recipients.Suppressions{DB: db.DB}
			for _, a := range args {
				added, err := s.Add(cmd.Context(), a, reason)
				if err != nil {
					return exitcode.Usagef("%w", err)
				}
				if added {
					app.Printf("Suppressed %s\n", a)
				} else {
					app.Printf("%s was already suppressed\n", a)
				}
			}
			return nil
		},
	}
	add.Flags().StringVar(&reason, "reason", "", "why (kept with the entry)")
	var lf listFlags
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Add every address of a file: a list with an email column, or one address per line",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := app.DB(cmd.Context())
			if err != nil {
				return err
			}
			s := &recipients.Suppressions{DB: db.DB}
			added, already, bad := 0, 0, 0
			addOne := func(line int, a string) error {
				ok, err := s.Add(cmd.Context(), a, reason)
				switch {
				case err != nil && errors.Is(err, cmd.Context().Err()):
					return err
				case err != nil:
					bad++
					app.Warnf("line %d: %v\n", line, err)
				case ok:
					added++
				default:
					already++
				}
				return nil
			}
			if plainList(args[0]) {
				f, err := os.Open(args[0])
				if err != nil {
					return exitcode.Usagef("%w", err)
				}
				defer f.Close()
				sc := bufio.NewScanner(f)
				for n := 1; sc.Scan(); n++ {
					if a := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff")); a != "" && !strings.HasPrefix(a, "#") {
						if err := addOne(n, a); err != nil {
							return err
						}
					}
				}
				if err := sc.Err(); err != nil {
					return err
				}
			} else {
				lf.file = args[0]
				lo, err := lf.options()
				if err != nil {
					return err
				}
				r, err := recipients.Open(args[0], lo)
				if err != nil {
					return exitcode.Usagef("%w", err)
				}
				defer r.Close()
				for {
					row, err := r.Next()
					if err == io.EOF {
						break
					}
					var re *recipients.RowError
					if errors.As(err, &re) {
						bad++
						app.Warnf("%v\n", err)
						continue
					}
					if err != nil {
						return err
					}
					if err := addOne(row.Number, row.Email); err != nil {
						return err
					}
				}
			}
			app.Printf("Suppressed %d new address(es); %d already were; %d line(s) not addresses.\n", added, already, bad)
			return nil
		},
	}
	imp.Flags().StringVar(&reason, "reason", "", "why (kept with each entry)")
	imp.Flags().StringVar(&lf.emailColumn, "email-column", "email", "the column holding the address")
	imp.Flags().StringVar(&lf.encoding, "encoding", "auto", "file encoding: auto, utf-8 or shift_jis")
	var asJSON bool
	list := &cobra.Command{
		Use: "list", Short: "Print the suppression list", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := app.DB(cmd.Context())
			if err != nil {
				return err
			}
			s := &recipients.Suppressions{DB: db.DB}
			var all []recipients.Suppressed
			return errors.Join(s.List(cmd.Context(), func(e recipients.Suppressed) error {
				if asJSON {
					all = append(all, e)
					return nil
				}
				app.Printf("%s\t%s\t%s\n", e.Addr, e.AddedAt.Local().Format("2006-01-02"), e.Reason)
				return nil
			}), func() error {
				if asJSON {
					if all == nil {
						all = []recipients.Suppressed{}
					}
					return app.PrintJSON(all)
				}
				return nil
			}())
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	remove := &cobra.Command{
		Use: "remove ADDRESS...", Short: "Take addresses off the suppression list", Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := app.DB(cmd.Context())
			if err != nil {
				return err
			}
			s := &recipients.Suppressions{DB: db.DB}
			missing := 0
			for _, a := range args {
				ok, err := s.Remove(cmd.Context(), a)
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
		},
	}
	cmd.AddCommand(add, imp, list, remove)
	return cmd
}

// plainList reports whether path looks like one address per line (its
// first line is an address, not a header).
func plainList(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	line = strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
	return recipients.CheckAddress(line) == nil || strings.HasPrefix(line, "#") && !strings.ContainsAny(line, ",\t")
}

var _ = fmt.Sprint
