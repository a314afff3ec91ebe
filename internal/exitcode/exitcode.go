// Package exitcode names the process exit codes bluemoon documents, so that
// cron jobs and scripts can branch on them.
package exitcode

import (
	"errors"
	"fmt"
)

const (
	OK       = 0 // everything asked for was done
	Error    = 1 // an error that is none of the below (I/O, network, bug)
	Usage    = 2 // bad command line, bad input file or bad configuration
	Failures = 3 // the delivery finished, but some recipients failed
	SignIn   = 4 // a person must sign in again; nothing waited for them
	Paused   = 5 // the delivery paused (daily limit, Ctrl-C, pause command)
)

// Coder is implemented by errors that choose their own exit code.
type Coder interface{ ExitCode() int }

// For returns the exit code err asks for, or Error.
func For(err error) int {
	if err == nil {
		return OK
	}
	var c Coder
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return Error
}

// UsageError marks a mistake in the command line, an input file or a
// setting: something the user fixes, not something to retry.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }
func (e *UsageError) ExitCode() int { return Usage }

// Usagef builds a UsageError from a format string (wrapping with %w works).
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}
