package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-runewidth"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// The rough edges a new user hit (issue 14, item 6), as they would see them.

// runIn is runCLI with listings shown in zone loc.
func runIn(t *testing.T, home string, loc *time.Location, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, IsTerminal: func() bool { return false }, Location: loc}
	code := Run(context.Background(), app, append([]string{"--home", home}, args...))
	return result{Stdout: out.String(), Stderr: errb.String(), Code: code}
}

// A missing file is "cannot open X: no such file", said once, whichever
// command reads it.
func TestMissingFileSaidOnce(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "list.csv", "email\na@example.com\n")
	body := writeTemp(t, dir, "body.txt", "Hello\n")
	gone := filepath.Join(dir, "gone")
	send := []string{"send", "--account", "news", "--subject", "Hi"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{append(send, "--recipients", gone, "--text", body), "recipients: cannot open " + gone + ": no such file"},
		{append(send, "--recipients", list, "--text", gone), "--text: cannot open " + gone + ": no such file"},
		{append(send, "--recipients", list, "--text", body, "--attach", gone), "--attach: cannot open " + gone + ": no such file"},
		{[]string{"credentials", "import", gone}, "bluemoon: cannot open " + gone + ": no such file"},
		{[]string{"credentials", "create", "--provider", "google", "--client-id", "x", "--client-secret-file", gone, "--out", filepath.Join(dir, "x.bmcred")},
			"--client-secret-file: cannot open " + gone + ": no such file"},
		{[]string{"suppress", "import", gone}, "cannot open " + gone + ": no such file"},
		{[]string{"deliveries", "save", "x", "--account", "news", "--recipients", gone, "--subject", "s", "--text", body},
			"--recipients: cannot open " + gone + ": no such file"},
		{[]string{"account", "edit", "news", "--ca-file", gone}, "--ca-file: cannot open " + gone + ": no such file"},
	} {
		r := runCLI(t, home, "", c.args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, c.want) || strings.Count(r.Stderr, gone) != 1 ||
			strings.Contains(r.Stderr, "no such file or directory") || strings.Contains(r.Stderr, "read open") {
			t.Errorf("bluemoon %s: exit %d\n got %q\nwant %q", c.args[0], r.Code, r.Stderr, c.want)
		}
	}
	if srv.Count() != 0 {
		t.Fatal("something was sent")
	}
}

// A delivery is named by its ID or its name; a name several deliveries
// share is refused with their IDs. An empty list is [] in JSON.
func TestDeliveriesByNameOrID(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	if r := mustRun(t, home, "deliveries", "list", "--json"); strings.TrimSpace(r.Stdout) != "[]" {
		t.Fatalf("empty list: %q", r.Stdout)
	}
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "list.csv", "email\na@example.com\n")
	body := writeTemp(t, dir, "body.txt", "Hello\n")
	for _, name := range []string{"秋のお知らせ", "winter", "秋のお知らせ"} {
		mustRun(t, home, "send", "--account", "news", "--recipients", list, "--subject", "Hi", "--text", body, "--name", name)
	}
	if r := mustRun(t, home, "deliveries", "show", "winter"); !strings.HasPrefix(r.Stdout, "Delivery 2: winter\n") {
		t.Fatalf("show by name:\n%s", r.Stdout)
	}
	if r := mustRun(t, home, "deliveries", "report", "winter", "--csv"); !strings.Contains(r.Stdout, "2,a@example.com,sent,1,250") {
		t.Fatalf("report by name:\n%s", r.Stdout)
	}
	if r := mustRun(t, home, "deliveries", "show", "3"); !strings.HasPrefix(r.Stdout, "Delivery 3: 秋のお知らせ\n") {
		t.Fatalf("show by ID:\n%s", r.Stdout)
	}
	r := runCLI(t, home, "", "deliveries", "report", "秋のお知らせ")
	if r.Code != 2 || !strings.Contains(r.Stderr, `2 deliveries are named "秋のお知らせ" (IDs 3, 1): give the ID of the one you mean`) {
		t.Fatalf("ambiguous name: exit %d %s", r.Code, r.Stderr)
	}
	r = runCLI(t, home, "", "deliveries", "pause", "spring")
	if r.Code != 2 || !strings.Contains(r.Stderr, `no delivery has the ID or name "spring"`) {
		t.Fatalf("unknown name: exit %d %s", r.Code, r.Stderr)
	}
}

// Listings show every time in one zone, the computer's, named on each
// line; a schedule's own zone is its rule's, in the ZONE column.
func TestListingsUseOneTimeZone(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	jst := time.FixedZone("JST", 9*3600)
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "list.csv", "email\na@example.com\n")
	body := writeTemp(t, dir, "body.txt", "Hello\n")
	mustRun(t, home, "send", "--account", "news", "--recipients", list, "--subject", "Hi", "--text", body, "--name", "autumn")
	mustRun(t, home, "deliveries", "save", "monthly", "--account", "news", "--recipients", list, "--subject", "Hi", "--text", body)
	if r := runIn(t, home, jst, "schedule", "add", "m", "--run", "monthly", "--cron", "0 9 1 * *", "--tz", "America/New_York"); r.Code != 0 ||
		!regexp.MustCompile(`next \d{4}-\d\d-01 09:00 E[SD]T \(\d{4}-\d\d-\d\d (22|23):00 JST here\)`).MatchString(r.Stdout) {
		t.Fatalf("schedule add: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	stamp := regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d [A-Z]+`)
	for _, args := range [][]string{{"deliveries", "list"}, {"schedule", "list"}} {
		r := runIn(t, home, jst, args...)
		stamps := stamp.FindAllString(r.Stdout, -1)
		if r.Code != 0 || len(stamps) == 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.Code, r.Stdout)
		}
		for _, s := range stamps {
			if !strings.HasSuffix(s, " JST") {
				t.Errorf("%v shows %q, not in the computer's zone (JST):\n%s", args, s, r.Stdout)
			}
		}
	}
}

// Columns line up when a value is Japanese: each kanji takes two columns
// of a terminal.
func TestTablesAlignWithJapanese(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "list.csv", "email\na@example.com\n")
	body := writeTemp(t, dir, "body.txt", "Hello\n")
	for _, name := range []string{"秋のお知らせ（会員向け）", "winter news"} {
		mustRun(t, home, "send", "--account", "news", "--recipients", list, "--subject", "Hi", "--text", body, "--name", name)
	}
	r := mustRun(t, home, "deliveries", "list")
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%q", r.Stdout)
	}
	col := func(l, word string) int { return runewidth.StringWidth(l[:strings.Index(l, word)]) }
	want := col(lines[0], "ACCOUNT")
	for _, l := range lines[1:] {
		if got := col(l, "  news  ") + 2; got != want {
			t.Errorf("ACCOUNT starts at column %d, not %d:\n%s", got, want, r.Stdout)
		}
	}
}

// The README's provider presets are what `account show` prints.
func TestReadmePresetsMatchAccountShow(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // provider | via → the whole row
	for _, l := range strings.Split(string(readme), "\n") {
		cells := strings.Split(strings.Trim(l, "| "), " | ")
		if len(cells) == 5 && strings.HasSuffix(cells[4], "per message") {
			rows[cells[0]+" | "+cells[1]] = strings.Join(cells, " | ")
		}
	}
	home, dir := t.TempDir(), t.TempDir()
	for _, c := range []struct{ kind, row, from, secret, via string }{
		{"google", "Google Workspace / Gmail", "news@example.com", "s", "smtp"},
		{"google", "Google Workspace / Gmail", "news@example.com", "s", "gmail-api"},
		{"microsoft", "Microsoft 365 / Outlook.com", "info@contoso.com", "", "smtp"},
		{"microsoft", "Microsoft 365 / Outlook.com", "info@contoso.com", "", "graph"},
	} {
		if r := runCLI(t, home, "", "credentials", "show", c.kind); r.Code != 0 {
			file := filepath.Join(dir, c.kind+".bmcred")
			args := []string{"credentials", "create", "--provider", c.kind, "--client-id", "id-" + c.kind, "--out", file}
			if c.secret != "" {
				args = append(args, "--client-secret", c.secret)
			}
			mustRun(t, home, args...)
			mustRun(t, home, "credentials", "import", file, "--name", c.kind)
		}
		name := c.kind + "-" + c.via
		mustRun(t, home, "account", "add", name, "--from", c.from, "--credentials", c.kind, "--via", c.via)
		show := showFields(t, home, name)
		want, ok := rows[c.row+" | "+c.via]
		if !ok {
			t.Fatalf("the README has no preset row %q | %s", c.row, c.via)
		}
		if got := strings.Join([]string{c.row, show["via"], show["smtp"], show["security"], show["limits"]}, " | "); got != want {
			t.Errorf("README:       %q\naccount show: %q", want, got)
		}
	}
	mustRun(t, home, "account", "add", "relay", "--from", "a@example.org", "--smtp", "mail.example.org:587", "--auth", "none")
	other := rows["other SMTP (`--smtp`) | smtp"]
	if limits := showFields(t, home, "relay")["limits"]; !strings.HasSuffix(other, " | "+limits) {
		t.Errorf("README other SMTP %q, account show %q", other, limits)
	}
}

func showFields(t *testing.T, home, name string) map[string]string {
	t.Helper()
	r := mustRun(t, home, "account", "show", name)
	f := map[string]string{}
	for _, l := range strings.Split(r.Stdout, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			f[k] = strings.TrimSpace(v)
		}
	}
	return f
}

// `bluemoon version` names the module version and the commit, or says
// the commit is unknown (a build outside a checkout), never nothing.
func TestVersionSaysModuleAndCommit(t *testing.T) {
	r := mustRun(t, t.TempDir(), "version")
	if !regexp.MustCompile(`^bluemoon \S+ \(commit ([0-9a-f]{12}|unknown: built without version control information)[^)]*\) go1\.\d+`).MatchString(r.Stdout) {
		t.Fatalf("%q", r.Stdout)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, t.TempDir(), "version", "--json").Stdout), &v); err != nil || v["version"] == nil || v["go"] == nil {
		t.Fatalf("%v %v", v, err)
	}
}
