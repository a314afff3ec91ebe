package web_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// In Japanese, in a real browser: from the deliveries page to the saved
// deliveries; run one now after the question with its recipient count,
// landing on its live page; delete one after the question; a delete of
// one a schedule runs is refused in words; schedule opens the form
// prefilled.
func TestBrowserSavedDeliveriesJapanese(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	saveNews(t, c.svc, "monthly-news", "relay", 3)
	saveNews(t, c.svc, "old-offers", "relay", 2)
	if _, err := c.svc.AddSchedule(t.Context(), core.ScheduleInput{Name: "monthly", Kind: schedule.KindDelivery, Target: "monthly-news", Cron: "0 10 1 * *", Missed: schedule.MissedSkip}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, "ja")
	confirms := b.answerConfirms()
	confirms.accept.Store(true)
	b.open(c)
	b.goTo(c, "/deliveries")
	b.submit("#saved-link")
	b.waitText("main#main h1", "保存した配信")
	b.waitText("#saved-monthly-news", "今月のお知らせ")
	b.waitText("#saved-monthly-news .saved-schedules", "monthly")
	b.waitText("#saved-old-offers .saved-schedules", "なし")

	// Schedule it: the form with the delivery chosen.
	b.submit("#saved-monthly-news .saved-schedule")
	b.waitText("main#main h1", "新しいスケジュール")
	if got := b.value("#run"); got != "monthly-news" {
		t.Fatalf("the schedule form chose %q", got)
	}

	// Run now: asked with the count, then its live page.
	b.goTo(c, "/deliveries/saved")
	b.submit("#saved-monthly-news .saved-run")
	b.waitText("main#main h1", "monthly-news を今すぐ実行")
	b.waitText("#check-ready", "3 件に送信") // the check's rows are the wizard's (check-rows)
	b.submit("#saved-run-now")
	var id int64
	if _, err := fmt.Sscanf(evalJS[string](b, `location.pathname`), "/deliveries/%d", &id); err != nil {
		t.Fatalf("not on a delivery's page: %v\n%s", err, b.pageText())
	}
	if _, err := c.svc.WaitDelivery(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	if ms.smtp.Accepted() != 3 {
		t.Fatalf("the stand-in got %d", ms.smtp.Accepted())
	}
	if !slices.ContainsFunc(confirms.all(), func(s string) bool { return strings.Contains(s, "3 件の宛先") }) {
		t.Fatalf("run asked %q", confirms.all())
	}

	// Delete: one a schedule runs is kept, said why; the other goes.
	b.goTo(c, "/deliveries/saved")
	b.submit("#saved-monthly-news .saved-remove")
	b.waitText("#problem", "monthly-news は削除していません。スケジュール monthly がこの配信を実行します。")
	b.submit("#saved-old-offers .saved-remove")
	b.waitText("main#main", "保存した配信 old-offers を削除しました。")
	if b.visible("#saved-old-offers") {
		t.Fatal("old-offers is still listed")
	}
	if !slices.ContainsFunc(confirms.all(), func(s string) bool { return strings.Contains(s, "old-offers を削除しますか") }) {
		t.Fatalf("delete asked %q", confirms.all())
	}
}
