package cli

import (
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

func stdinIsTerminal() bool { return term.IsTerminal(int(os.Stdin.Fd())) }

// isCobraUsage recognises cobra's own argument errors, which carry no type.
// They are returned as they are made, so their text starts with cobra's
// words; an error of bluemoon's own that merely contains them (a server's
// "invalid argument", an advice saying what a provider "accepts ") is not
// one.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand", "required flag", "invalid argument"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// codeFor is the process exit code of err: the code the error chose, or
// Usage for cobra's untyped argument errors, else Error.
func codeFor(err error) int {
	code := exitcode.For(err)
	if code == exitcode.Error && isCobraUsage(err) {
		return exitcode.Usage
	}
	return code
}
