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

// guardGroups makes every command group below c refuse a word that is
// none of its commands. Cobra does so only for the root: a group such as
// 'deliveries' printed its help and exited 0, so a script's mistyped
// `bluemoon deliveries canel 12` looked done. The group alone still shows
// its help.
func guardGroups(c *cobra.Command) {
	for _, s := range c.Commands() {
		if !s.HasSubCommands() || s.Name() == "help" {
			continue
		}
		own := s.Args
		s.Args = func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownSubcommand(c, args[0])
			}
			if own != nil {
				return own(c, args)
			}
			return nil
		}
		if !s.Runnable() {
			s.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
			s.DisableFlagsInUseLine = true
		}
		guardGroups(s)
	}
}

// unknownSubcommand says that word is not a command of group c, with the
// command it most likely meant and the ones it has.
func unknownSubcommand(c *cobra.Command, word string) error {
	msg := fmt.Sprintf("unknown command %q for '%s'", word, c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's own default, set only for the root
	}
	if s := c.SuggestionsFor(word); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	msg += fmt.Sprintf("; its commands are %s (see '%s --help')", strings.Join(names, ", "), c.CommandPath())
	return &exitcode.UsageError{Err: fmt.Errorf("%s\nUsage: %s COMMAND", msg, c.CommandPath())}
}
