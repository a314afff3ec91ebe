package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The demo is the README's first command: it must deliver, show the
// decoded messages, and leave nothing behind outside its temporary home.
func TestDemoDeliversAndLeavesNoTrace(t *testing.T) {
	cfg, tmp := t.TempDir(), t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("HOME", cfg)
	t.Setenv("TMPDIR", tmp)
	t.Setenv("BLUEMOON_HOME", "")
	var out, errb bytes.Buffer
	app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, IsTerminal: func() bool { return false }}
	if code := Run(context.Background(), app, []string{"demo", "--recipients", "40"}); code != 0 {
		t.Fatalf("demo exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	s := out.String()
	for _, want := range []string{
		"Delivery 1 done: 20 sent, 0 failed",
		"Delivery 2 done: 20 sent, 0 failed",
		"The microsoft SMTP stand-in accepted 20 message(s).",
		"The google SMTP stand-in accepted 20 message(s).",
		"ISO-2022-JP)", "UTF-8)",
		"Subject: 佐藤 太郎 様：12月のご利用明細", // decoded from ISO-2022-JP, merged from a Shift_JIS list
		"Attachments: ご案内.txt",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	// It says only what it did, and nothing about its own stand-ins.
	all := s + errb.String()
	for _, never := range []string{"browser was opened", "If it did not open", "Open the address above",
		"not a microsoft default", "not a google default", "warning"} {
		if strings.Contains(all, never) {
			t.Errorf("demo output says %q:\n%s", never, all)
		}
	}
	if n := strings.Count(s, "The demo's stand-in browser opens this address"); n != 2 {
		t.Errorf("the demo says %d times that its browser signs in, want 2", n)
	}
	for _, dir := range []string{cfg, tmp} {
		entries, _ := os.ReadDir(dir)
		if len(entries) != 0 {
			var names []string
			for _, e := range entries {
				names = append(names, filepath.Join(dir, e.Name()))
			}
			t.Errorf("demo left files behind: %v", names)
		}
	}
}

func TestDemoKeepsItsHomeWhenAsked(t *testing.T) {
	home := t.TempDir()
	r := runCLI(t, home, "", "demo", "--recipients", "4")
	if r.Code != 0 {
		t.Fatalf("demo exit %d: %s", r.Code, r.Stderr)
	}
	r = mustRun(t, home, "deliveries", "list")
	if !strings.Contains(r.Stdout, "December statement (microsoft)") || !strings.Contains(r.Stdout, "December statement (google)") {
		t.Fatalf("the kept home does not list the demo's deliveries:\n%s", r.Stdout)
	}
	// A second run on the same home works too (accounts are replaced).
	if r := runCLI(t, home, "", "demo", "--recipients", "4"); r.Code != 0 {
		t.Fatalf("second demo on the same home: exit %d: %s", r.Code, r.Stderr)
	}
}

// `demo --via graph,gmail-api`: both accounts send through the providers'
// API stand-ins (tokens for the API's resource from the one sign-in), the
// SMTP stand-ins receive nothing, and the messages decode as over SMTP.
func TestDemoThroughTheAPIs(t *testing.T) {
	home := t.TempDir()
	r := runCLI(t, home, "", "demo", "--recipients", "40", "--via", "graph,gmail-api")
	if r.Code != 0 {
		t.Fatalf("demo --via: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	for _, want := range []string{
		"--via graph", "--via gmail-api",
		"Delivery 1 done: 20 sent, 0 failed",
		"Delivery 2 done: 20 sent, 0 failed",
		"The microsoft graph stand-in accepted 20 message(s).",
		"The google gmail-api stand-in accepted 20 message(s).",
		"ISO-2022-JP)", "UTF-8)",
		"Subject: 佐藤 太郎 様：12月のご利用明細",
		"Attachments: ご案内.txt",
		"Accepted by Microsoft Graph", "sent by the Gmail API",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("demo --via output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s", r.Stdout)
	}
	rep := mustRun(t, home, "deliveries", "report", "1", "--json")
	if !strings.Contains(rep.Stdout, `"via":"graph"`) || strings.Contains(rep.Stdout, `"via":"smtp"`) {
		t.Errorf("the report does not record that delivery 1 went through Graph:\n%.600s", rep.Stdout)
	}
	if r := runCLI(t, home, "", "demo", "--via", "fax"); r.Code != 2 {
		t.Errorf("demo --via fax: exit %d, want 2", r.Code)
	}
}
