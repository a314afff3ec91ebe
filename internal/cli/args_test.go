package cli

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// leaves returns every command that runs (not only groups), by path
// without the leading "bluemoon".
func leaves(c *cobra.Command) [][]string {
	var out [][]string
	if c.Runnable() && c.Name() != "help" && c.Name() != "completion" {
		out = append(out, strings.Fields(c.CommandPath())[1:])
	}
	for _, s := range c.Commands() {
		if s.Name() == "completion" || s.Name() == "help" {
			continue
		}
		out = append(out, leaves(s)...)
	}
	return out
}

// Every command checks how many arguments it is given, and says so in a
// sentence with its usage line, never cobra's "accepts 1 arg(s),
// received 0".
func TestArgumentCountErrorsAreSentences(t *testing.T) {
	root := NewRoot(&App{})
	home := t.TempDir()
	for _, path := range leaves(root) {
		c, _, err := root.Find(path)
		if err != nil {
			t.Fatal(err)
		}
		if c.Args == nil {
			t.Errorf("bluemoon %s has no argument check", strings.Join(path, " "))
			continue
		}
		var names []string
		for range argNames(c.Use) {
			names = append(names, "x")
		}
		// One argument too many (too many for every command with a limit),
		// then none at all (too few for every command that needs one).
		for _, args := range [][]string{append(append(names, "x"), "y", "z", "w", "v"), nil} {
			if err := c.Args(c, args); err != nil {
				r := runCLI(t, home, "", append(append([]string{}, path...), args...)...)
				if r.Code != 2 || strings.Contains(r.Stderr, "arg(s)") || !strings.Contains(r.Stderr, "Usage: bluemoon "+strings.Join(path, " ")) ||
					!strings.Contains(r.Stderr, "'bluemoon "+strings.Join(path, " ")+"'") {
					t.Errorf("bluemoon %s %q: exit %d\n%s", strings.Join(path, " "), args, r.Code, r.Stderr)
				}
			}
		}
	}
	r := runCLI(t, home, "", "deliveries", "report")
	if want := "bluemoon: 'bluemoon deliveries report' needs DELIVERY after it; none was given.\nUsage: bluemoon deliveries report DELIVERY"; !strings.HasPrefix(r.Stderr, want) {
		t.Errorf("got %q\nwant %q…", r.Stderr, want)
	}
	r = runCLI(t, home, "", "send", "list.csv")
	if want := `bluemoon: 'bluemoon send' takes no arguments, only flags, but was given "list.csv".`; !strings.HasPrefix(r.Stderr, want) {
		t.Errorf("got %q\nwant %q…", r.Stderr, want)
	}
	r = runCLI(t, home, "", "account", "show", "Taro", "Yamada")
	if want := `bluemoon: 'bluemoon account show' takes one argument (NAME), but was also given "Yamada"; put quotes around a value that has spaces.`; !strings.HasPrefix(r.Stderr, want) {
		t.Errorf("got %q\nwant %q…", r.Stderr, want)
	}
}
