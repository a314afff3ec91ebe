package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

// The argument-count checks of every command. Cobra's own say "accepts 1
// arg(s), received 0", which tells a new user neither what is missing nor
// how to give it; these say it in a sentence and show the usage line.

func noArgs(c *cobra.Command, args []string) error { return checkArgs(c, args, 0, 0) }

func exactArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error { return checkArgs(c, args, n, n) }
}

func minArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error { return checkArgs(c, args, n, -1) }
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error { return checkArgs(c, args, 0, n) }
}

// checkArgs refuses fewer than lo or (max >= 0) more than hi arguments.
func checkArgs(c *cobra.Command, args []string, lo, hi int) error {
	names := argNames(c.Use)
	var msg string
	switch {
	case len(args) < lo:
		missing := names
		if len(args) < len(names) {
			missing = names[len(args):]
		}
		words := make([]string, len(missing))
		for i, w := range missing {
			if b, more := strings.CutSuffix(w, "..."); more {
				w = "one or more " + b
			}
			words[i] = w
		}
		what := strings.Join(words, " and ")
		if what == "" {
			what = countWords(lo - len(args))
		}
		msg = fmt.Sprintf("'%s' needs %s after it; ", c.CommandPath(), what)
		if len(args) == 0 {
			msg += "none was given."
		} else {
			msg += fmt.Sprintf("only %s was given.", quoteAll(args))
		}
	case hi >= 0 && len(args) > hi:
		extra := quoteAll(args[hi:])
		if hi == 0 {
			msg = fmt.Sprintf("'%s' takes no arguments, only flags, but was given %s.", c.CommandPath(), extra)
		} else {
			msg = fmt.Sprintf("'%s' takes %s (%s), but was also given %s; put quotes around a value that has spaces.",
				c.CommandPath(), countWords(hi), strings.Join(names, " "), extra)
		}
	default:
		return nil
	}
	return &exitcode.UsageError{Err: fmt.Errorf("%s\nUsage: %s", msg, c.UseLine())}
}

// argNames are the argument words of a Use line ("show ID" → ID,
// "status [ACCOUNT]" → ACCOUNT, "add ADDRESS..." → ADDRESS...), up to
// the first flag.
func argNames(use string) []string {
	f := strings.Fields(use)
	var out []string
	for _, w := range f[min(1, len(f)):] {
		bare := strings.TrimSuffix(strings.Trim(w, "[]"), "...")
		if bare == "" || strings.ToUpper(bare) != bare || strings.HasPrefix(bare, "-") || strings.ContainsAny(bare, "(|") {
			break
		}
		out = append(out, strings.Trim(w, "[]"))
	}
	return out
}

func countWords(n int) string {
	switch n {
	case 1:
		return "one argument"
	case 2:
		return "two arguments"
	}
	return strconv.Itoa(n) + " arguments"
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = strconv.Quote(a)
	}
	return strings.Join(q, " ")
}
