// Command bluemoon sends bulk and personalised mail through Google, Microsoft
// or any SMTP server. See the README for the commands.
package main

import (
	"context"
	"os"
	"os/signal"

	"github.com/bluemoon-mail/bluemoon/internal/cli"
)

func main() {
	// The first Ctrl-C cancels the context so a delivery can pause cleanly;
	// stop() restores the default so a second Ctrl-C kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() { <-ctx.Done(); stop() }()
	os.Exit(cli.Run(ctx, &cli.App{}, os.Args[1:]))
}
