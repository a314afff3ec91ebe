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

// A word after a command group that is none of its commands is a mistake
// (exit 2, naming the word and the group's commands), never the group's
// help with exit 0: a script's `deliveries canel 12` must not look done.
func TestUnknownSubcommandIsUsageError(t *testing.T) {
	root := NewRoot(&App{})
	home := t.TempDir()
	var groups int
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			if !s.HasSubCommands() || s.Name() == "help" {
				continue
			}
			groups++
			path := strings.Fields(s.CommandPath())[1:]
			r := runCLI(t, home, "", append(append([]string{}, path...), "no-such-command", "12")...)
			if r.Code != 2 || r.Stdout != "" ||
				!strings.Contains(r.Stderr, `unknown command "no-such-command" for '`+s.CommandPath()+`'`) ||
				!strings.Contains(r.Stderr, s.Commands()[0].Name()) {
				t.Errorf("bluemoon %s no-such-command 12: exit %d\nstdout: %s\nstderr: %s", strings.Join(path, " "), r.Code, r.Stdout, r.Stderr)
			}
			// A top-level group alone still shows its help ('deliveries
			// saved' alone lists the saved deliveries).
			if r := runCLI(t, home, "", path...); c == root && (r.Code != 0 || !strings.Contains(r.Stdout, "Available Commands")) {
				t.Errorf("bluemoon %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(path, " "), r.Code, r.Stdout, r.Stderr)
			}
			walk(s)
		}
	}
	walk(root)
	if groups < 5 {
		t.Fatalf("only %d command groups found", groups)
	}
	r := runCLI(t, home, "", "deliveries", "canel", "12")
	if r.Code != 2 || !strings.Contains(r.Stderr, "(did you mean cancel?)") {
		t.Errorf("deliveries canel 12: exit %d, stderr %q: want 2 and the command meant", r.Code, r.Stderr)
	}
}
