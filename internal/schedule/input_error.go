package schedule

import "fmt"

// InputError is a setting a person gave that this package refuses: Flag
// names where it came from, as the CLI's flag without its dashes ("tz",
// "cron", "at", "missed", "preflight", "notify-email", "run", "name",
// "os"), so that a face marks that input without reading the message,
// which stays the CLI's English sentence.
type InputError struct {
	Flag string
	Err  error // the sentence, wrapping the cause where there is one
}

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// inputErr is an *InputError for flag, its message made as fmt.Errorf
// makes it (%w wraps the cause).
func inputErr(flag, format string, args ...any) error {
	return &InputError{Flag: flag, Err: fmt.Errorf(format, args...)}
}
