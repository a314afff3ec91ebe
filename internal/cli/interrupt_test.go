package cli

import (
	"strings"
	"testing"
)

// The first Ctrl-C offers a quit at once only where a second one does
// it: not in a job serve started, which serve and the terminal both stop
// with a SIGINT, however serve (or a person) spelled its arguments.
func TestFirstInterruptSaysWhatTheSecondDoes(t *testing.T) {
	for _, tc := range []struct {
		args      []string
		scheduled bool
	}{
		{[]string{"--home", "/h", "schedule", "run", "--unattended", "--scheduled", "--resume-delivery", "1", "--error-file", "/tmp/e"}, true},
		{[]string{"--home", "/h", "schedule", "run", "--unattended", "--scheduled", "--due", "2026-12-01T00:00:00Z", "--", "news"}, true},
		{[]string{"schedule", "run", "--scheduled", "--preflight", "--", "-odd-name"}, true},
		{[]string{"schedule", "run", "news", "--scheduled=true"}, true},
		{[]string{"schedule", "run", "news", "--unattended"}, false},
		{[]string{"schedule", "run", "--scheduled=false", "news"}, false},
		{[]string{"schedule", "run", "--", "--scheduled"}, false}, // a name, not the flag
		{[]string{"send", "--account", "sales", "--scheduled"}, false},
		{[]string{"run", "news", "--unattended"}, false},
		{[]string{"deliveries", "resume", "1"}, false},
		{[]string{"serve"}, false},
		{nil, false},
	} {
		line, secondQuits := FirstInterrupt(tc.args)
		if secondQuits == tc.scheduled {
			t.Errorf("%q: a second Ctrl-C quits: %v; want %v", tc.args, secondQuits, !tc.scheduled)
		}
		if offers := strings.Contains(line, "Ctrl-C again to quit at once"); offers != secondQuits {
			t.Errorf("%q: %q; offers a quit at once: %v, a second Ctrl-C quits: %v", tc.args, line, offers, secondQuits)
		}
		if tc.scheduled && !strings.Contains(line, "stopping with the scheduler") {
			t.Errorf("%q: %q; want it to say it stops with the scheduler", tc.args, line)
		}
	}
}
