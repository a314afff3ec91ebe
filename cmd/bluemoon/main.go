// Command bluemoon sends bulk and personalised mail through Google, Microsoft
// or any SMTP server. See the README for the commands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"

	"github.com/bluemoon-mail/bluemoon/internal/cli"
)

// cpuProfileEnv names a file to write a CPU profile of the whole command
// to (go tool pprof reads it): how the sender's cost per message is found.
const cpuProfileEnv = "BLUEMOON_CPUPROFILE"

func main() {
	// bluemoon waits on servers and on SQLite, one core's worth of work at
	// most: with a second P the Go scheduler spins and hands goroutines
	// between threads at every reply, which cost a bulk send ~10 % more CPU
	// per message for no speed (measured on a 2-core machine). The
	// environment variable still decides when set.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	// The first Ctrl-C cancels the context: a delivery writes no new
	// message, waits a second at most for the replies due, records them
	// and pauses. stop() restores the default, so a second Ctrl-C ends the
	// process at once (only the messages then with the server are left
	// unknown) — except in a job serve started, which serve and the
	// terminal both stop with a SIGINT: it keeps SIGINT caught, and says
	// so rather than offer a quit that does not come. Which it is, is
	// asked when the signal comes (SIGINT stays caught meanwhile), not at
	// every start: reading the arguments as the command will builds the
	// whole command tree.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	go func() {
		<-ctx.Done()
		line, secondQuits := cli.FirstInterrupt(os.Args[1:])
		if secondQuits {
			stop()
		}
		fmt.Fprintln(os.Stderr, "\n"+line)
	}()
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
