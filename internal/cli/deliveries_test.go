package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// 'deliveries cancel' of a delivery whose process died while running
// cancels it at once (nobody would ever poll the request), keeps the
// recipient that was with the server as unknown, and resume then sends
// nothing.
func TestCancelOfADeliveryWhoseRunnerDied(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1, PerDay: 1})
	list := writeTemp(t, dir, "l.csv", "email\na@example.com\nb@example.com\nc@example.com\nd@example.com\n")
	body := writeTemp(t, dir, "b.txt", "Hi\n")
	// The daily limit of 1 pauses it after a@.
	if r := runCLI(t, home, "", "send", "--account", "news", "--recipients", list, "--subject", "S", "--text", body); r.Code != 5 {
		t.Fatalf("send: exit %d\n%s", r.Code, r.Stderr)
	}
	// As a killed run leaves it: still 'running', b@ with the server.
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(`UPDATE deliveries SET status = 'running' WHERE id = 1`)
	db.Exec(`UPDATE delivery_recipients SET state = 'sending' WHERE email = 'b@example.com'`)
	db.Close()

	r := mustRun(t, home, "deliveries", "cancel", "1")
	if !strings.Contains(r.Stdout, "Delivery 1 cancelled.") {
		t.Errorf("cancel said: %s", r.Stdout)
	}
	states := reportStates(t, home)
	for addr, want := range map[string]string{"a@example.com": "sent", "b@example.com": "unknown", "c@example.com": "cancelled", "d@example.com": "cancelled"} {
		if states[addr] != want {
			t.Errorf("%s: %s, want %s", addr, states[addr], want)
		}
	}
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	if r := runCLI(t, home, "", "deliveries", "resume", "1"); r.Code == 0 || srv.Count() != 1 {
		t.Errorf("resume of the cancelled delivery: exit %d, server got %d (want 1)\n%s", r.Code, srv.Count(), r.Stderr)
	}
}

// --daily-wait 0 pauses at once when the daily limit is reached, even when
// the window reopens within the default 15 minutes (it used to mean "the
// default" and waited).
func TestDailyWaitZeroPausesAtOnce(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1, PerDay: 2})
	// Two messages sent 23 h 55 min ago: the window reopens in about 5 minutes.
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	minute := time.Now().Unix()/60 - 1435
	if _, err := db.Exec(`INSERT INTO send_log(account, minute, count) VALUES ('news', ?, 2)`, minute); err != nil {
		t.Fatal(err)
	}
	db.Close()
	list := writeTemp(t, dir, "l.csv", "email\na@example.com\n")
	body := writeTemp(t, dir, "b.txt", "Hi\n")
	r := runCLI(t, home, "", "send", "--account", "news", "--recipients", list, "--subject", "S", "--text", body, "--daily-wait", "0")
	if r.Code != 5 || srv.Count() != 0 || !strings.Contains(r.Stdout, "limit of 2 messages per 24 hours") {
		t.Fatalf("exit %d, server got %d; want 5 and 0\n%s\n%s", r.Code, srv.Count(), r.Stdout, r.Stderr)
	}
}

// reportStates is delivery 1's report: each recipient's state.
func reportStates(t *testing.T, home string) map[string]string {
	t.Helper()
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	err = delivery.Report(context.Background(), db.DB, 1, func(o delivery.Outcomes) error {
		out[o.Email] = o.State
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// 'report --csv --json' is a mistake (exit 2, saying so), not a CSV that a
// script asking for JSON then fails to parse.
func TestReportRefusesCSVAndJSONTogether(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	list := writeTemp(t, dir, "l.csv", "email\na@example.com\n")
	body := writeTemp(t, dir, "b.txt", "Hi\n")
	mustRun(t, home, "send", "--account", "news", "--recipients", list, "--subject", "S", "--text", body)
	r := runCLI(t, home, "", "deliveries", "report", "1", "--csv", "--json")
	if r.Code != 2 || r.Stdout != "" || !strings.Contains(r.Stderr, "--csv or --json, not both") {
		t.Errorf("exit %d\nstdout: %s\nstderr: %s", r.Code, r.Stdout, r.Stderr)
	}
}

// An account whose delivery is unfinished is not removed (exit 2, naming
// the delivery and what to do). Resuming a delivery whose account is gone
// all the same (removed by an earlier version, which allowed it) says what
// can be done — add the account again under its name, or cancel — not only
// "account "news": no such account (see 'bluemoon account list')". Cancel
// works.
func TestResumeWithoutItsAccountSaysWhatToDo(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1, PerDay: 1})
	list := writeTemp(t, dir, "l.csv", "email\na@example.com\nb@example.com\n")
	body := writeTemp(t, dir, "b.txt", "Hi\n")
	if r := runCLI(t, home, "", "send", "--account", "news", "--recipients", list, "--subject", "S", "--text", body, "--daily-wait", "0"); r.Code != 5 {
		t.Fatalf("send: exit %d\n%s", r.Code, r.Stderr)
	}
	if r := runCLI(t, home, "", "account", "remove", "news"); r.Code != 2 || !strings.Contains(r.Stderr, "account news was not removed: its deliveries 1 are not finished") ||
		!strings.Contains(r.Stderr, "bluemoon deliveries cancel ID") {
		t.Fatalf("account remove with a paused delivery: exit %d\n%s", r.Code, r.Stderr)
	}
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM accounts WHERE name = 'news'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := runCLI(t, home, "", "deliveries", "resume", "1")
	if r.Code != 2 || !strings.Contains(r.Stderr, `delivery 1 sends through account "news"`) ||
		!strings.Contains(r.Stderr, "bluemoon account add news") || !strings.Contains(r.Stderr, "bluemoon deliveries cancel 1") {
		t.Errorf("resume: exit %d\n%s", r.Code, r.Stderr)
	}
	mustRun(t, home, "deliveries", "cancel", "1")
}

// Asking again for a pause or a cancel that is in effect already is no
// mistake (exit 0, "already paused"/"already cancelled"), and a paused
// delivery keeps the cause it paused for — except a pause by a daily
// limit, which the scheduler would resume once the limit resets: paused
// by hand, it waits for a person. Pausing or cancelling a delivery that
// has finished is refused (exit 2) saying why.
func TestPauseAndCancelAgainAreIdempotent(t *testing.T) {
	home, dir := t.TempDir(), t.TempDir()
	srv := startSMTP(t, nil)
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1, PerDay: 1})
	list := writeTemp(t, dir, "l.csv", "email\na@example.com\nb@example.com\n")
	body := writeTemp(t, dir, "b.txt", "Hi\n")
	send := []string{"send", "--account", "news", "--recipients", list, "--subject", "S", "--text", body, "--daily-wait", "0"}
	if r := runCLI(t, home, "", send...); r.Code != 5 { // the daily limit pauses it after a@
		t.Fatalf("send: exit %d\n%s", r.Code, r.Stderr)
	}
	if r := mustRun(t, home, "deliveries", "show", "1"); !strings.Contains(r.Stdout, "bluemoon serve, if it runs then, resumes it by itself") {
		t.Fatalf("paused by the daily limit, show does not say serve resumes it:\n%s", r.Stdout)
	}
	// No scheduler runs: the list does not say serve resumes it, only
	// that the scheduler does (show says which, and when).
	if r := mustRun(t, home, "deliveries", "list"); !strings.Contains(r.Stdout, "paused (the scheduler resumes it)") || strings.Contains(r.Stdout, "serve resumes it") {
		t.Fatalf("paused by the daily limit, list:\n%s", r.Stdout)
	}
	if r := runCLI(t, home, "", "deliveries", "pause", "1"); r.Code != 0 || !strings.Contains(r.Stdout, "Delivery 1 paused.") {
		t.Fatalf("pause of a delivery paused by the daily limit: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	reason := mustRun(t, home, "deliveries", "show", "1").Stdout
	if !strings.Contains(reason, "paused by 'bluemoon deliveries pause'") || strings.Contains(reason, "resumes it by itself") {
		t.Fatalf("paused by the daily limit, then by hand: the scheduler would still resume it:\n%s", reason)
	}
	for range 2 {
		if r := runCLI(t, home, "", "deliveries", "pause", "1"); r.Code != 0 || !strings.Contains(r.Stdout, "Delivery 1 is already paused.") {
			t.Fatalf("pause of a paused delivery: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
		}
	}
	if after := mustRun(t, home, "deliveries", "show", "1").Stdout; after != reason {
		t.Errorf("a pause of a paused delivery changed it:\n%s\nwas:\n%s", after, reason)
	}
	if r := mustRun(t, home, "deliveries", "cancel", "1"); !strings.Contains(r.Stdout, "Delivery 1 cancelled.") {
		t.Fatalf("cancel: %s", r.Stdout)
	}
	if r := runCLI(t, home, "", "deliveries", "cancel", "1"); r.Code != 0 || !strings.Contains(r.Stdout, "Delivery 1 is already cancelled.") {
		t.Fatalf("cancel of a cancelled delivery: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if r := runCLI(t, home, "", "deliveries", "pause", "1"); r.Code != 2 || !strings.Contains(r.Stderr, "delivery 1 is cancelled: there is nothing to pause") {
		t.Fatalf("pause of a cancelled delivery: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	// A delivery that is done: neither can be asked.
	addTestAccount(t, home, "news", srv, provider.Limits{Connections: 1})
	mustRun(t, home, send...)
	for _, what := range []string{"pause", "cancel"} {
		r := runCLI(t, home, "", "deliveries", what, "2")
		if r.Code != 2 || !strings.Contains(r.Stderr, "delivery 2 is done (every recipient has an outcome): there is nothing to "+what) {
			t.Errorf("%s of a done delivery: exit %d\n%s%s", what, r.Code, r.Stdout, r.Stderr)
		}
	}
}
