package web_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
	"github.com/bluemoon-mail/bluemoon/internal/web"
)

// saveNews stores a saved delivery of n recipients through acct.
func saveNews(t *testing.T, svc *core.Service, name, acct string, n int) {
	t.Helper()
	body := filepath.Join(t.TempDir(), "body.txt")
	if err := os.WriteFile(body, []byte("{{.name}} 様\n\n今月のお知らせです。\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := svc.SaveDelivery(t.Context(), &saved.Delivery{Name: name, Account: acct, Recipients: writeList(t, n), Subject: "今月のお知らせ", Text: body}); err != nil {
		t.Fatal(err)
	}
}

// Create, say in words, edit (a new next run), turn off and on, delete;
// a refused form names the field in words; the daily test send is one
// click and is not made twice; the home's alert settings are checked.
func TestSchedulesOverHTTP(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	saveNews(t, c.svc, "news", "relay", 2)
	s := c.session()

	code, page := s.get("/schedules")
	if code != http.StatusOK || !strings.Contains(page, "Nothing runs these schedules now") || !strings.Contains(page, "No schedules yet") ||
		!strings.Contains(page, "serve") || !strings.Contains(page, `id="install-text"`) {
		t.Fatalf("empty page: %d\n%s", code, page)
	}

	form := map[string]string{"name": "weekly-news", "run": "news", "when": "repeat", "every": "weekly", "weekday": "1", "time": "09:30",
		"tz": "Asia/Tokyo", "missed": "skip", "preflight": "6h"}
	code, page, at := s.post("/schedules/new", form, nil)
	if code != http.StatusOK || at != "/schedules" || !strings.Contains(page, "Schedule weekly-news created") || !strings.Contains(page, "Weekly on Monday at 09:30") ||
		!strings.Contains(page, "Asia/Tokyo") || !strings.Contains(page, "Saved delivery “news”") {
		t.Fatalf("create: %d at %s\n%s", code, at, page)
	}
	sc, err := c.svc.Schedule(t.Context(), "weekly-news")
	if err != nil || sc.Cron != "30 9 * * 1" || sc.TZ != "Asia/Tokyo" || sc.Preflight != 6*time.Hour || sc.Next.Weekday() != time.Monday {
		t.Fatalf("stored %+v %v", sc, err)
	}
	if !strings.Contains(page, sc.Next.Local().Format("2 Jan 2006 15:04")) {
		t.Fatalf("the next run %v is not on the page in local time", sc.Next.Local())
	}

	for _, bad := range []struct{ field, value, want string }{
		{"name", "bad name", "no spaces"},
		{"name", "weekly-news", "That name is taken"},
		{"time", "25:00", "HH:MM"},
		{"run", "", "Choose the saved delivery"},
		{"tz", "Mars/Base", "Unknown time zone"},
	} {
		f := map[string]string{}
		for k, v := range form {
			f[k] = v
		}
		f["name"] = "other"
		f[bad.field] = bad.value
		code, page, _ := s.post("/schedules/new", f, nil)
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, bad.want) || !strings.Contains(page, `aria-invalid="true"`) {
			t.Errorf("%s=%q: %d, want %q on the form", bad.field, bad.value, code, bad.want)
		}
	}
	code, page, _ = s.post("/schedules/new", map[string]string{"name": "expert", "run": "news", "when": "cron", "cron": "0 25 * * *", "missed": "skip"}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "The cron line cannot be read") {
		t.Fatalf("a bad cron line: %d", code)
	}

	// The edit form comes back as the repeat it was made with.
	code, page = s.get("/schedules/weekly-news/edit")
	if code != http.StatusOK || !strings.Contains(page, `value="09:30"`) || !strings.Contains(page, `<option value="weekly" selected>`) ||
		!strings.Contains(page, `<option value="1" selected>`) || !strings.Contains(page, `<option value="6h" selected>`) {
		t.Fatalf("edit form: %d\n%s", code, page)
	}
	code, page, _ = s.post("/schedules/weekly-news/edit", map[string]string{"run": "news", "when": "repeat", "every": "monthly", "day": "15", "time": "07:05",
		"tz": "Local", "missed": "run-once", "preflight": "24h", "notify_cmd": " logger weekly "}, nil)
	if code != http.StatusOK || !strings.Contains(page, "Schedule weekly-news saved") || !strings.Contains(page, "Monthly on day 15 at 07:05") {
		t.Fatalf("edit: %d\n%s", code, page)
	}
	sc, _ = c.svc.Schedule(t.Context(), "weekly-news")
	if sc.Cron != "5 7 15 * *" || sc.Next.Day() != 15 || sc.Next.Hour() != 7 || time.Since(sc.LastDue) > time.Minute || !strings.Contains(page, sc.Next.Local().Format("2 Jan 2006 15:04")) {
		t.Fatalf("edited %+v next %v", sc.Schedule, sc.Next)
	}
	// The schedule's own alert destination is kept, and comes back in the form.
	if code, page = s.get("/schedules/weekly-news/edit"); sc.Alert.Command != "logger weekly" || !strings.Contains(page, `name="notify_cmd" value="logger weekly"`) {
		t.Fatalf("the schedule's alert: %q, form %d\n%s", sc.Alert.Command, code, page)
	}

	code, page, _ = s.post("/schedules/weekly-news/pause", nil, nil)
	if code != http.StatusOK || !strings.Contains(page, "Schedule weekly-news turned off") || !strings.Contains(page, "— (turned off)") {
		t.Fatalf("pause: %d", code)
	}
	if sc, _ := c.svc.Schedule(t.Context(), "weekly-news"); !sc.Paused {
		t.Fatal("not paused")
	}
	s.post("/schedules/weekly-news/resume", nil, nil)
	if sc, _ := c.svc.Schedule(t.Context(), "weekly-news"); sc.Paused {
		t.Fatal("not resumed")
	}
	code, page, _ = s.post("/schedules/weekly-news/remove", nil, nil)
	if code != http.StatusOK || !strings.Contains(page, "Schedule weekly-news deleted") {
		t.Fatalf("remove: %d", code)
	}
	if _, err := c.svc.Schedule(t.Context(), "weekly-news"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("still there: %v", err)
	}
	if code, _, _ := s.post("/schedules/weekly-news/remove", nil, nil); code != http.StatusNotFound {
		t.Fatalf("removing it again: %d", code)
	}

	// The daily test send: one click on the account's page, and it says so after.
	code, page = s.get("/accounts/relay")
	if code != http.StatusOK || !strings.Contains(page, "Add a daily automatic test send") {
		t.Fatalf("account page: %d", code)
	}
	code, page, at = s.post("/schedules/testsend", map[string]string{"account": "relay", "from": "account"}, nil)
	if code != http.StatusOK || at != "/accounts/relay" || !strings.Contains(page, "Daily automatic test send added (keepalive-relay)") ||
		strings.Contains(page, "Add a daily automatic test send") || !strings.Contains(page, "Set up") {
		t.Fatalf("one click: %d at %s", code, at)
	}
	_, page, at = s.post("/schedules/testsend", map[string]string{"account": "relay"}, nil)
	if at != "/schedules" || !strings.Contains(page, "already has a daily automatic test send") || !strings.Contains(page, "Daily at 09:00") ||
		!strings.Contains(page, "Automatic test send of relay") {
		t.Fatalf("twice: at %s\n%s", at, page)
	}
	if list, _ := c.svc.Schedules(t.Context()); len(list) != 1 || !list[0].SendTest {
		t.Fatalf("schedules %+v", list)
	}

	// The keep-alive's form keeps its account; without the test message it
	// no longer counts as the daily test send.
	code, page = s.get("/schedules/keepalive-relay/edit")
	if code != http.StatusOK || !strings.Contains(page, `name="send_test" checked`) || strings.Contains(page, `id="run"`) || !strings.Contains(page, "Keep-alive of relay") {
		t.Fatalf("keep-alive edit form: %d\n%s", code, page)
	}
	code, _, _ = s.post("/schedules/keepalive-relay/edit", map[string]string{"run": "news", "when": "repeat", "every": "daily", "time": "06:00", "tz": "Local", "missed": "run-once"}, nil)
	ka, _ := c.svc.Schedule(t.Context(), "keepalive-relay")
	if code != http.StatusOK || ka.SendTest || ka.Target != "relay" || ka.Cron != "0 6 * * *" || ka.Preflight != 0 {
		t.Fatalf("keep-alive edited: %d %+v", code, ka.Schedule)
	}
	if _, page := s.get("/accounts/relay"); !strings.Contains(page, "Add a daily automatic test send") {
		t.Fatal("a keep-alive without the test message still counts as the daily test send")
	}

	// Alert settings.
	code, page, _ = s.post("/schedules/alerts", map[string]string{"notify_email": "ops@example.org"}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "needs both the address and the account") {
		t.Fatalf("e-mail without an account: %d", code)
	}
	code, page, _ = s.post("/schedules/alerts", map[string]string{"notify_email": "ops@example.org", "notify_account": "relay", "notify_cmd": "logger bluemoon"}, nil)
	if code != http.StatusOK || !strings.Contains(page, "Alert settings saved") || !strings.Contains(page, "E-mail to ops@example.org, sent through account relay") ||
		!strings.Contains(page, "<code>logger bluemoon</code>") {
		t.Fatalf("alerts: %d\n%s", code, page)
	}
	if ac, _ := c.svc.AlertSettings(t.Context()); ac.Email != "ops@example.org" || ac.EmailAccount != "relay" || ac.Command != "logger bluemoon" {
		t.Fatalf("stored %+v", ac)
	}
	if _, page := s.get("/schedules/alerts"); !strings.Contains(page, `value="ops@example.org"`) || !strings.Contains(page, `<option value="relay" selected>`) {
		t.Fatal("the alert form does not show the stored settings")
	}
}

// The console and `bluemoon serve` on one home: only one scheduler runs;
// a schedule made in the console is run by the other process's serve and
// its result shows on the page; with no serve, the console runs the
// schedules itself until it stops, and then nothing does.
func TestConsoleAndServeShareAHome(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	saveNews(t, c.svc, "news", "relay", 3)
	s := c.session()

	// "The other process": its own Service on the same home.
	other, err := core.Open(context.Background(), core.Options{Home: c.home})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx, stopServe := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- other.Serve(ctx, core.ServeOptions{Poll: 100 * time.Millisecond}) }()
	waitFor(t, "the other serve to start", func() bool { on, _ := c.svc.ServeRunning(); return on })

	_, page := s.get("/schedules")
	if !strings.Contains(page, "A scheduler (bluemoon serve) runs for this home") || strings.Contains(page, `id="serve-here"`) ||
		!strings.Contains(page, "also resumes each delivery paused by a daily limit") {
		t.Fatalf("with serve running elsewhere:\n%s", page)
	}
	_, page, _ = s.post("/schedules/serve", nil, nil)
	if !strings.Contains(page, "Another scheduler (bluemoon serve) runs for this home") {
		t.Fatalf("a second scheduler was not refused:\n%s", page)
	}

	// A one-off run a few seconds from now, made in the console.
	when := time.Now().Add(6 * time.Second).Truncate(time.Second) // ahead of a slow, shared machine's request
	code, page, _ := s.post("/schedules/new", map[string]string{"name": "soon", "run": "news", "when": "once", "at": when.Format("2006-01-02T15:04:05"),
		"tz": "Local", "missed": "run-once", "preflight": "0"}, nil)
	if code != http.StatusOK || !strings.Contains(page, "Once at") {
		t.Fatalf("create: %d\n%s", code, page)
	}
	waitFor(t, "the other serve to run it and the page to show the result", func() bool {
		_, page := s.get("/schedules")
		return strings.Contains(page, "Succeeded")
	})
	if n := len(ms.smtp.Messages()); n != 3 {
		t.Fatalf("the stand-in got %d messages, want 3", n)
	}
	// A failed run is said in words from its exit code: here the list of
	// the saved delivery is gone (exit 2).
	saveNews(t, c.svc, "lost-list", "relay", 1)
	if err := os.Remove(mustSaved(t, c, "lost-list").Recipients); err != nil {
		t.Fatal(err)
	}
	when = time.Now().Add(6 * time.Second).Truncate(time.Second)
	if code, page, _ := s.post("/schedules/new", map[string]string{"name": "broken", "run": "lost-list", "when": "once", "at": when.Format("2006-01-02T15:04:05"),
		"tz": "Local", "missed": "run-once", "preflight": "0"}, nil); code != http.StatusOK {
		t.Fatalf("create: %d\n%s", code, page)
	}
	waitFor(t, "the failed run on the page", func() bool {
		_, page := s.get("/schedules")
		return strings.Contains(page, "Did not succeed (exit 2)") && strings.Contains(page, "A setting or file is wrong")
	})
	stopServe()
	if err := <-served; err != nil {
		t.Fatal(err)
	}

	// Nobody runs them now: the console offers to, and then is the one.
	_, page = s.get("/schedules")
	if !strings.Contains(page, "Nothing runs these schedules now") || !strings.Contains(page, `id="serve-here"`) {
		t.Fatalf("after serve stopped:\n%s", page)
	}
	_, page, _ = s.post("/schedules/serve", nil, nil)
	if !strings.Contains(page, "This console runs the schedules of this home") || !strings.Contains(page, "Closing the console") {
		t.Fatalf("run here:\n%s", page)
	}
	if on, _ := other.ServeRunning(); !on {
		t.Fatal("the other process does not see the console's scheduler")
	}
	var busy *core.BusyError
	if err := other.Serve(context.Background(), core.ServeOptions{}); !errors.As(err, &busy) {
		t.Fatalf("a serve beside the console's scheduler: %v", err)
	}
	_, page, _ = s.post("/schedules/serve/stop", nil, nil)
	if !strings.Contains(page, "no longer runs the schedules") || !strings.Contains(page, `id="serve-here"`) {
		t.Fatalf("stop:\n%s", page)
	}
	if on, _ := other.ServeRunning(); on {
		t.Fatal("still running after stop")
	}
}

// Schedules run by a console stop when the console stops.
func TestConsoleSchedulerStopsWithTheConsole(t *testing.T) {
	home := t.TempDir()
	svc, err := core.Open(context.Background(), core.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	srv, err := web.New(svc, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ctx) }()
	c := &console{t: t, svc: svc, srv: srv, home: home, logs: &testbin.Buffer{}}
	s := c.session()
	s.post("/schedules/serve", nil, nil)
	if on, _ := svc.ServeRunning(); !on {
		cancel()
		t.Fatal("the console did not start running the schedules")
	}
	cancel()
	<-done
	if on, _ := svc.ServeRunning(); on {
		t.Fatal("the schedules still run after the console stopped")
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mustSaved(t *testing.T, c *console, name string) *saved.Delivery {
	t.Helper()
	d, err := c.svc.SavedDelivery(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
