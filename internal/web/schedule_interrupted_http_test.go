package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// A scheduled run stopped with the scheduler before it sent anything is
// shown as interrupted, with when it runs again, not as a failure whose
// exit code tells the person to resume a delivery that does not exist.
func TestSchedulesPageSaysARunWasInterrupted(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	saveNews(t, c.svc, "news", "relay", 2)
	ctx := t.Context()
	if _, err := c.svc.AddSchedule(ctx, core.ScheduleInput{Name: "weekly", Kind: schedule.KindDelivery, Target: "news",
		Cron: "0 9 * * 1", TZ: "UTC", Missed: schedule.MissedSkip}); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), c.home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := (&schedule.Store{DB: db.DB}).MarkInterrupted(ctx, "weekly", time.Now().Add(-time.Hour), time.Now()); err != nil {
		t.Fatal(err)
	}
	hc := c.client()
	for lang, want := range map[string]string{
		"en": "the scheduler runs it when it starts next",
		"ja": "次にスケジューラーが起動したときに実行されます",
	} {
		req, _ := http.NewRequest("GET", c.srv.BaseURL()+"/schedules", nil)
		req.Header.Set("Accept-Language", lang)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := body(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(b, want) || missingKey.MatchString(b) {
			t.Errorf("schedules page (%s): %s, want %q\n%s", lang, resp.Status, want, b)
		}
		if strings.Contains(b, "badge-error") {
			t.Errorf("schedules page (%s) shows the interrupted run as a failure", lang)
		}
	}
}
