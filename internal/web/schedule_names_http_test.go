package web_test

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// A schedule name is checked by the one rule its message states: letters
// (Japanese too), digits, '-' or '_'. "<script>x" is refused on the form
// in the page's language, "朝の配信" is taken; a schedule saved before the
// rule under a name it now refuses is still listed, changed, turned off
// and deleted.
func TestScheduleNamesFollowTheRuleTheFormStates(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	saveNews(t, c.svc, "news", "relay", 2)
	form := map[string]string{"run": "news", "when": "repeat", "every": "daily", "time": "09:30", "tz": "Asia/Tokyo", "missed": "skip", "preflight": "6h"}
	with := func(name string) map[string]string {
		f := map[string]string{"name": name}
		for k, v := range form {
			f[k] = v
		}
		return f
	}
	want := map[string]string{
		"en": "Use 1–100 letters (Japanese too), digits, “-” or “_” for the name, starting with a letter or digit: no spaces, dots or other marks.",
		"ja": "名前には文字（日本語も可）・数字・「-」・「_」を 1～100 文字で使い、文字か数字で始めてください。空白・「.」などの記号は使えません。",
	}
	for _, name := range []string{"<script>x", "news.weekly", "-x", "朝の配信!"} {
		for lang, w := range want {
			s := c.session()
			s.hc.Transport = langTransport{lang}
			code, page, _ := s.post("/schedules/new", with(name), nil)
			if code != http.StatusUnprocessableEntity || !strings.Contains(page, template.HTMLEscapeString(w)) || !invalidInput(page, "name") {
				t.Errorf("%q (%s): %d, want 422 saying %q beside the name\n%s", name, lang, code, w, page)
			}
		}
		if _, err := c.svc.Schedule(t.Context(), name); err == nil {
			t.Errorf("%q was saved", name)
		}
	}
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	if code, page, at := s.post("/schedules/new", with("朝の配信"), nil); code != http.StatusOK || at != "/schedules" || !strings.Contains(page, "朝の配信") {
		t.Errorf("a Japanese name: %d at %s\n%s", code, at, page)
	}
	if _, err := c.svc.Schedule(t.Context(), "朝の配信"); err != nil {
		t.Errorf("a Japanese name was not saved: %v", err)
	}

	// Saved by an earlier version, whose check let it through.
	const old = "<script>x"
	db, err := store.Open(context.Background(), c.home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	doc, _ := json.Marshal(&schedule.Schedule{Name: old, Kind: schedule.KindDelivery, Target: "news", Cron: "0 9 * * *", TZ: "Asia/Tokyo",
		Missed: schedule.MissedSkip, CreatedAt: time.Now().UTC()})
	if _, err := db.DB.Exec(`INSERT INTO schedules (name, doc, created_at) VALUES (?, ?, ?)`, old, string(doc), time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	s = c.session()
	if code, page := s.get("/schedules"); code != http.StatusOK || !strings.Contains(page, "&lt;script&gt;x") || strings.Contains(page, "<script>x") {
		t.Fatalf("the old schedule is not listed (escaped): %d\n%s", code, page)
	}
	path := "/schedules/" + url.PathEscape(old)
	edit := with("")
	delete(edit, "name")
	edit["time"] = "07:05"
	if code, page, _ := s.post(path+"/edit", edit, nil); code != http.StatusOK || !strings.Contains(page, "saved") {
		t.Errorf("changing the old schedule: %d\n%s", code, page)
	}
	if sc, err := c.svc.Schedule(t.Context(), old); err != nil || sc.Cron != "5 7 * * *" {
		t.Errorf("the old schedule after the change: %+v %v", sc, err)
	}
	if code, _, _ := s.post(path+"/pause", nil, nil); code != http.StatusOK {
		t.Errorf("turning the old schedule off: %d", code)
	}
	if code, page, _ := s.post(path+"/remove", nil, nil); code != http.StatusOK || !strings.Contains(page, "deleted") {
		t.Errorf("deleting the old schedule: %d\n%s", code, page)
	}
	if _, err := c.svc.Schedule(t.Context(), old); err == nil {
		t.Error("the old schedule is still there")
	}
}

// On the check step the name is the saved delivery's and the schedule's:
// "Save and schedule" under a name a schedule may not have ("セール!") is
// refused before anything is saved, in the page's language; a Japanese
// name is scheduled.
func TestSchedulingADraftUnderANameNoScheduleTakesSavesNothing(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	base := readyDraft(t, s, 2)
	code, page, _ := s.post(base+"/schedule", map[string]string{"name": "セール!", "when": "repeat", "every": "daily", "time": "09:00"}, nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(page, "日本語の文字・英数字・「-」・「_」を使ってください（文字か数字で始め、空白・スラッシュ・ピリオドなどの記号は使えません）。") || !invalidInput(page, "save-name") {
		t.Errorf("セール!: %d, want 422 beside the name\n%s", code, page)
	}
	if list, _ := c.svc.SavedDeliveries(t.Context()); len(list) != 0 {
		t.Errorf("a refused schedule saved %d deliveries", len(list))
	}
	code, page, _ = s.post(base+"/schedule", map[string]string{"name": "月例のお知らせ", "when": "repeat", "every": "daily", "time": "09:00"}, nil)
	if _, err := c.svc.Schedule(t.Context(), "月例のお知らせ"); code != http.StatusOK || err != nil {
		t.Errorf("月例のお知らせ: %d, %v\n%s", code, err, page)
	}
}
