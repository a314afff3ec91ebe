package cli

import (
	"io"
	"strings"
)

// Interrupt lines: what the first Ctrl-C (SIGINT) to a command says.
const (
	interruptLine = "bluemoon: stopping (Ctrl-C again to quit at once)"
	// A job serve started is stopped by serve and the terminal alike
	// (two SIGINTs for one stop), so a second Ctrl-C does not end it at
	// once: serve kills it if it has not ended two minutes later.
	scheduledInterruptLine = "bluemoon: stopping with the scheduler (a delivery under way pauses; the next scheduler run goes on with it)"
)

// FirstInterrupt says what the first Ctrl-C (SIGINT) to `bluemoon args`
// does: the line to print, and whether a second one ends the process at
// once. main asks when the first SIGINT comes, with SIGINT still caught,
// so that a job serve started (schedule run --scheduled) keeps it caught
// from its first moment: the terminal's Ctrl-C and serve's own may both
// come while it starts.
func FirstInterrupt(args []string) (line string, secondQuits bool) {
	if scheduledJob(args) {
		return scheduledInterruptLine, false
	}
	return interruptLine, true
}

// scheduledJob says whether args run a job as serve does (schedule run
// --scheduled), read as the command itself will read them.
func scheduledJob(args []string) bool {
	root := NewRoot(&App{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard})
	cmd, rest, err := root.Find(args)
	if err != nil || cmd.Flags().Lookup("scheduled") == nil {
		return false
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return false
	}
	scheduled, _ := cmd.Flags().GetBool("scheduled")
	return scheduled
}
