package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

// A saved delivery or an alert destination naming an account that does not
// exist is bad input (exit 2) when it is given, not a failure discovered
// by a timer weeks later — or an alert silently lost when it is needed.
func TestUnknownAccountsRefusedWhenGiven(t *testing.T) {
	home := t.TempDir()
	dir := t.TempDir()
	list, body := filepath.Join(dir, "list.csv"), filepath.Join(dir, "body.txt")
	os.WriteFile(list, []byte("email\na@example.com\n"), 0o600)
	os.WriteFile(body, []byte("Hello\n"), 0o600)
	save := []string{"deliveries", "save", "news", "--recipients", list, "--subject", "News", "--text", body}

	r := runCLI(t, home, "", append(save, "--account", "nosuch")...)
	if r.Code != exitcode.Usage || !strings.Contains(r.Stderr, "--account") || !strings.Contains(r.Stderr, "nosuch") {
		t.Fatalf("save through an unknown account: exit %d, %s", r.Code, r.Stderr)
	}
	if r := mustRun(t, home, "deliveries", "saved", "--json"); strings.Contains(r.Stdout, "news") {
		t.Fatalf("the delivery was saved anyway:\n%s", r.Stdout)
	}

	saveNews(t, home) // through account sales, which exists
	notify := []string{"--notify-email", "ops@example.org", "--notify-account", "typo"}
	for _, args := range [][]string{
		append(append([]string{}, save...), append([]string{"--account", "sales"}, notify...)...),
		append([]string{"run", "news"}, notify...),
		append([]string{"keepalive", "sales"}, notify...),
		append([]string{"schedule", "add", "daily", "--run", "news", "--cron", "0 9 * * *"}, notify...),
		append([]string{"serve", "--once"}, notify...),
	} {
		r := runCLI(t, home, "", args...)
		if r.Code != exitcode.Usage || !strings.Contains(r.Stderr, "--notify-account") || !strings.Contains(r.Stderr, "typo") {
			t.Errorf("%s: exit %d, want 2 naming --notify-account\n%s", strings.Join(args, " "), r.Code, r.Stderr)
		}
	}
	if r := mustRun(t, home, "deliveries", "list", "--json"); strings.TrimSpace(r.Stdout) != "null" && strings.TrimSpace(r.Stdout) != "[]" {
		t.Fatalf("a delivery ran despite the bad alert account:\n%s", r.Stdout)
	}
	if r := mustRun(t, home, "schedule", "list"); strings.Contains(r.Stdout, "daily") {
		t.Fatalf("the schedule was added anyway:\n%s", r.Stdout)
	}
}
