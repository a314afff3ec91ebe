package web_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// The saved deliveries page lists each with the schedules that run it;
// run now asks first with the recipient count, then runs in the
// background and opens the delivery's page; delete refuses while a
// schedule runs it, and works once the schedule is gone.
func TestSavedDeliveriesOverHTTP(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	s := c.session()

	code, page := s.get("/deliveries/saved")
	if code != http.StatusOK || !strings.Contains(page, `id="saved-empty"`) {
		t.Fatalf("empty: %d\n%s", code, page)
	}
	for _, p := range []string{"/deliveries", "/schedules"} {
		if _, page := s.get(p); !strings.Contains(page, `href="/deliveries/saved"`) {
			t.Errorf("%s does not link to the saved deliveries", p)
		}
	}
	saveNews(t, c.svc, "news", "relay", 4)
	saveNews(t, c.svc, "offers", "relay", 2)
	if _, err := c.svc.AddSchedule(t.Context(), core.ScheduleInput{Name: "monday-news", Kind: schedule.KindDelivery, Target: "news", Cron: "0 9 * * 1", Missed: schedule.MissedSkip}); err != nil {
		t.Fatal(err)
	}
	_, page = s.get("/deliveries/saved")
	for _, want := range []string{`id="saved-news"`, `id="saved-offers"`, "今月のお知らせ", "relay", `href="/schedules/monday-news/edit"`,
		`href="/deliveries/saved/news/run"`, `href="/schedules/new?run=news"`, `action="/deliveries/saved/offers/remove"`, "Delete the saved delivery offers?"} {
		if !strings.Contains(page, want) {
			t.Errorf("list lacks %q", want)
		}
	}

	// Schedule it: the form comes prefilled.
	if _, page := s.get("/schedules/new?run=news"); !strings.Contains(page, `value="news" selected`) {
		t.Errorf("the schedule form does not preselect news")
	}

	// Run now: the confirmation says how many, nothing is sent yet.
	code, page = s.get("/deliveries/saved/news/run")
	if code != http.StatusOK || !strings.Contains(page, "4 recipients") || !strings.Contains(page, `data-confirm="Send this message to 4 recipients`) || ms.smtp.Accepted() != 0 {
		t.Fatalf("confirm: %d, accepted %d\n%s", code, ms.smtp.Accepted(), page)
	}
	code, page, at := s.post("/deliveries/saved/news/run", nil, nil)
	var id int64
	if _, err := fmt.Sscanf(at, "/deliveries/%d", &id); err != nil || code != http.StatusOK {
		t.Fatalf("run: %d at %s\n%s", code, at, page)
	}
	if _, err := c.svc.WaitDelivery(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if d, err := c.svc.Delivery(t.Context(), id); err != nil || d.Name != "news" || ms.smtp.Accepted() != 4 {
		t.Fatalf("delivery %+v %v, accepted %d", d, err, ms.smtp.Accepted())
	}
	if code, _ := s.get("/deliveries/saved/nope/run"); code != http.StatusNotFound {
		t.Errorf("missing saved delivery: %d", code)
	}

	// Delete: refused while a schedule runs it, said in words.
	code, page, _ = s.post("/deliveries/saved/news/remove", nil, nil)
	if code != http.StatusConflict || !strings.Contains(page, "news was not deleted: the schedule monday-news runs it") {
		t.Fatalf("remove in use: %d\n%s", code, page)
	}
	if _, err := c.svc.SavedDelivery(t.Context(), "news"); err != nil {
		t.Fatal("deleted anyway")
	}
	code, page, at = s.post("/deliveries/saved/offers/remove", nil, nil)
	if code != http.StatusOK || at != "/deliveries/saved" || !strings.Contains(page, "Saved delivery offers deleted") || strings.Contains(page, `id="saved-offers"`) {
		t.Fatalf("remove: %d at %s\n%s", code, at, page)
	}
	if err := c.svc.RemoveSchedule(t.Context(), "monday-news"); err != nil {
		t.Fatal(err)
	}
	if code, _, _ = s.post("/deliveries/saved/news/remove", nil, nil); code != http.StatusOK {
		t.Fatalf("remove after the schedule went: %d", code)
	}
}

// Deleting a delivery saved from the console removes the copies of its
// files the console made; one saved from the command line keeps the
// user's own files.
func TestSavedDeliveryRemoveTakesTheConsolesFiles(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	dir := filepath.Join(c.home, "console", "saved", "from-console")
	for name, body := range map[string]string{"list/list.csv": "email,name\na@example.jp,A\n", "body.txt": "{{.name}} 様\n"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.svc.SaveDelivery(t.Context(), &saved.Delivery{Name: "from-console", Account: "relay", Recipients: filepath.Join(dir, "list", "list.csv"),
		Subject: "お知らせ", Text: filepath.Join(dir, "body.txt")}); err != nil {
		t.Fatal(err)
	}
	saveNews(t, c.svc, "from-cli", "relay", 1)
	cli, err := c.svc.SavedDelivery(t.Context(), "from-cli")
	if err != nil {
		t.Fatal(err)
	}
	s := c.session()
	for _, n := range []string{"from-console", "from-cli"} {
		if code, _, _ := s.post("/deliveries/saved/"+n+"/remove", nil, nil); code != http.StatusOK {
			t.Fatalf("remove %s: %d", n, code)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the console's copies outlived the saved delivery: %v", err)
	}
	if _, err := os.Stat(cli.Recipients); err != nil {
		t.Errorf("the user's own list went: %v", err)
	}
}
