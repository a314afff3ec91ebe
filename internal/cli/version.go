package cli

import (
	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/version"
)

func init() { register(versionCmd) }

func versionCmd(app *App) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "version",
		Short: "Print the version of bluemoon and the commit it was built from",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := version.Get()
			if asJSON {
				return app.PrintJSON(in)
			}
			app.Printf("%s\n", in)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
