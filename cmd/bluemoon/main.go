// Command bluemoon sends bulk and personalised mail through Google, Microsoft
// or any SMTP server. See the README for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"

	"github.com/bluemoon-mail/bluemoon/internal/cli"
)

// cpuProfileEnv names a file to write a CPU profile of the whole command
// to (go tool pprof reads it): how the sender's cost per message is found.
const cpuProfileEnv = "BLUEMOON_CPUPROFILE"

func main() {
	// The first Ctrl-C cancels the context so a delivery can pause cleanly;
	// stop() restores the default so a second Ctrl-C kills at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() { <-ctx.Done(); stop() }()
	stopProfile := startProfile()
	code := cli.Run(ctx, &cli.App{}, os.Args[1:])
	stopProfile()
	os.Exit(code)
}

func startProfile() func() {
	path := os.Getenv(cpuProfileEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bluemoon: %s: %v\n", cpuProfileEnv, err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
