package cli

import (
	"runtime/debug"

	"github.com/spf13/cobra"
)

func init() { register(versionCmd) }

func versionCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of bluemoon",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := "(devel)"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
				v = bi.Main.Version
			}
			app.Printf("bluemoon %s\n", v)
			return nil
		},
	}
}
