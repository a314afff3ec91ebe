package cli

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

func decodeBody(t *testing.T, raw []byte) string {
	t.Helper()
	d, err := message.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	return d.Text
}

// The account's signature ends a message only when asked for, as the
// sender wrote it: a "{{" in it is text, not a merge field.
func TestSignatureIsAppendedOnlyWhenAsked(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	sig := writeTemp(t, dir, "sig.txt", "――――\nコントソ株式会社 広報部\n{{ not a field }}\n")
	mustRun(t, home, "account", "edit", "news", "--signature-file", sig)
	list := writeTemp(t, dir, "l.csv", "email,name\na@example.com,Ann\n")
	body := writeTemp(t, dir, "b.txt", "Dear {{.name}},\nnews.\n")
	mustRun(t, home, "send", "--account", "news", "--recipients", list, "--subject", "s", "--text", body)
	mustRun(t, home, "send", "--account", "news", "--recipients", list, "--subject", "s", "--text", body, "--signature", "--charset", "utf-8")
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}
	first, second := decodeBody(t, msgs[0].Data), decodeBody(t, msgs[1].Data)
	if strings.Contains(first, "広報部") {
		t.Fatalf("without --signature the signature was added:\n%s", first)
	}
	if !strings.HasSuffix(second, "Dear Ann,\nnews.\n\n――――\nコントソ株式会社 広報部\n{{ not a field }}\n") {
		t.Fatalf("with --signature:\n%q", second)
	}
	mustRun(t, home, "account", "edit", "news", "--signature-file", "")
	if r := mustRun(t, home, "account", "show", "news", "--json"); strings.Contains(r.Stdout, "signature") {
		t.Fatalf("the signature was not removed:\n%s", r.Stdout)
	}
}

// deliveries resume --resend-failed sends again to the recipients the
// server refused, once it takes them, and to nobody else.
func TestResumeResendFailed(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	var refuse atomic.Bool
	refuse.Store(true)
	srv := startSMTP(t, func(s *smtptest.Server) {
		s.RcptReply = func(rcpt string) error {
			if refuse.Load() && strings.HasPrefix(rcpt, "gone") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
			}
			return nil
		}
	})
	addTestAccount(t, home, "a", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "l.csv", "email,name\nok@example.com,Ok\ngone@example.com,Gone\n")
	body := writeTemp(t, dir, "b.txt", "Hi {{.name}}")
	if r := runCLI(t, home, "", "send", "--account", "a", "--recipients", list, "--subject", "Hi", "--text", body); r.Code != 3 {
		t.Fatalf("send: exit %d\n%s", r.Code, r.Stderr)
	}
	refuse.Store(false)
	if r := runCLI(t, home, "", "deliveries", "resume", "1", "--resend-failed"); r.Code != 0 || srv.Count() != 2 {
		t.Fatalf("resume --resend-failed: exit %d, server got %d\n%s\n%s", r.Code, srv.Count(), r.Stdout, r.Stderr)
	}
	if to := srv.Messages()[1].To; len(to) != 1 || to[0] != "gone@example.com" {
		t.Fatalf("the resend went to %v", to)
	}
}

// The help of --delimiter names every separator it takes: a list that
// Excel saved with semicolons is refused with "add --delimiter semicolon",
// and the help said only "comma or tab".
func TestDelimiterHelpNamesSemicolon(t *testing.T) {
	for _, cmd := range [][]string{{"send"}, {"preview"}} {
		r := mustRun(t, t.TempDir(), append(cmd, "--help")...)
		i := strings.Index(r.Stdout, "--delimiter")
		if i < 0 {
			t.Fatalf("%s --help has no --delimiter:\n%s", cmd[0], r.Stdout)
		}
		line, _, _ := strings.Cut(r.Stdout[i:], "\n")
		if !strings.Contains(line, "semicolon") {
			t.Errorf("%s --help: %q", cmd[0], line)
		}
	}
}

// A negative duration is refused, naming the flag and what it takes,
// instead of being taken for 0 or the default unsaid; nothing is sent
// and no delivery is made.
func TestNegativeDurationsAreRefused(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "l.csv", "email,name\na@example.com,A\n")
	body := writeTemp(t, dir, "b.txt", "Hello {{.name}}\n")
	msg := []string{"--account", "news", "--recipients", list, "--subject", "S", "--text", body}
	mustRun(t, home, append([]string{"deliveries", "save", "monthly"}, msg...)...)
	mustRun(t, home, append([]string{"send", "--name", "first"}, msg...)...) // delivery 1, done
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append([]string{"send", "--daily-wait", "-1s"}, msg...), "--daily-wait -1s: must not be negative; give 0 (pause at once when the daily limit is reached) or a wait such as 30m"},
		{append([]string{"send", "--dry-run", "--daily-wait", "-1s"}, msg...), "--daily-wait -1s: must not be negative"},
		{[]string{"deliveries", "resume", "1", "--daily-wait", "-5m"}, "--daily-wait -5m0s: must not be negative"},
		{append(append([]string{"deliveries", "save", "weekly"}, msg...), "--", "--daily-wait", "-1s"), "send options: --daily-wait -1s: must not be negative"},
		{[]string{"serve", "--once", "--grace", "-1s"}, "--grace -1s: must not be negative; give 0 for the default (2m0s) or a duration such as 5m"},
		{[]string{"serve", "--once", "--poll", "-1s"}, "--poll -1s: must not be negative; give 0 for the default (15s)"},
		{[]string{"schedule", "add", "monthly", "--run", "monthly", "--cron", "0 9 1 * *", "--preflight", "-1h"}, "--preflight -1h0m0s: must not be negative (0 turns it off)"},
		{[]string{"login", "news", "--timeout", "-1s"}, "--timeout -1s: give a positive duration"},
	} {
		r := runCLI(t, home, "", tc.args...)
		if r.Code != 2 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("%s: exit %d, want 2 and %q\n%s%s", strings.Join(tc.args, " "), r.Code, tc.want, r.Stdout, r.Stderr)
		}
	}
	if l := mustRun(t, home, "deliveries", "list", "--json"); strings.Count(l.Stdout, `"id"`) != 1 {
		t.Errorf("a delivery was made:\n%s", l.Stdout)
	}
	if l := mustRun(t, home, "deliveries", "saved"); strings.Contains(l.Stdout, "weekly") {
		t.Errorf("a delivery was saved with a negative --daily-wait:\n%s", l.Stdout)
	}
	if srv.Count() != 1 {
		t.Fatalf("the server got %d message(s), want delivery 1's alone", srv.Count())
	}
}
