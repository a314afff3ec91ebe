package web_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// jaTime is how the Japanese pages write a time (fmt.datetime), in this
// computer's zone.
func jaTime(t time.Time) string { return t.Local().Format("2006年1月2日 15:04 (MST)") }

// setValue sets a form control's value as a person's choice would
// (selects, time inputs), firing change.
func (b *browser) setValue(sel, value string) {
	b.t.Helper()
	evalJS[bool](b, fmt.Sprintf(`(function(e){e.value=%q;e.dispatchEvent(new Event('change',{bubbles:true}));return true})(document.querySelector(%q))`, value, sel))
}

// In Japanese: the daily test send of an account in one click, with its
// next run in local time; a repeating schedule of a saved delivery made,
// retimed (a new next run), turned off, and deleted after the question.
func TestBrowserSchedulesJapanese(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "info@contoso.example")
	seedAccounts(t, c, ms)
	saveNews(t, c.svc, "monthly-news", "relay", 3)
	b := newBrowser(t, "ja")
	b.acceptDialogs()
	b.open(c)
	b.goTo(c, "/schedules")
	b.waitText("#runner-state", "スケジュールを実行するものがありません")
	b.waitText("#ka-info", "毎日の自動テスト送信を追加")

	// One click: the guide's daily automatic test send for "info".
	b.submit("#ka-info .daily-test")
	b.waitText("main#main", "毎日の自動テスト送信を追加しました（keepalive-info）")
	ka, err := c.svc.DailyTestSend(t.Context(), "info")
	if err != nil || ka == nil || ka.Next.IsZero() {
		t.Fatalf("daily test send: %+v %v", ka, err)
	}
	b.waitText("#ka-info", "設定済み")
	b.waitText("#ka-info", "次回 "+jaTime(ka.Next))
	b.waitText("#schedule-keepalive-info", "info の自動テスト送信")
	b.waitText("#schedule-keepalive-info", "毎日 09:00")
	b.waitText("#schedule-keepalive-info .sched-next", jaTime(ka.Next))
	if b.visible("#ka-info .daily-test") {
		t.Fatal("the button is still offered after the daily test send was added")
	}

	// A repeating schedule of a saved delivery.
	b.submit("#new-schedule")
	b.waitText("main#main h1", "新しいスケジュール")
	b.fill("#name", "daily-news")
	b.setValue("#run", "monthly-news")
	b.setValue("#every", "daily")
	b.setValue("#time", "08:15")
	b.submit("#schedule-save")
	b.waitText("main#main", "スケジュール daily-news を作成しました。")
	sc, err := c.svc.Schedule(t.Context(), "daily-news")
	if err != nil || sc.Cron != "15 8 * * *" || sc.Target != "monthly-news" {
		t.Fatalf("created %+v %v", sc, err)
	}
	b.waitText("#schedule-daily-news", "保存した配信「monthly-news」")
	b.waitText("#schedule-daily-news .sched-when", "毎日 08:15")
	b.waitText("#schedule-daily-news .sched-next", jaTime(sc.Next))

	// Retimed: a new next run.
	b.submit("#schedule-daily-news a.button")
	b.waitText("main#main h1", "スケジュール daily-news の変更")
	if got := b.value("#time"); got != "08:15" {
		t.Fatalf("the edit form shows %q", got)
	}
	b.setValue("#time", "18:45")
	b.submit("#schedule-save")
	b.waitText("main#main", "スケジュール daily-news を保存しました。")
	sc2, _ := c.svc.Schedule(t.Context(), "daily-news")
	if sc2.Cron != "45 18 * * *" || sc2.Next.Equal(sc.Next) {
		t.Fatalf("edited %+v", sc2.Schedule)
	}
	b.waitText("#schedule-daily-news .sched-when", "毎日 18:45")
	b.waitText("#schedule-daily-news .sched-next", jaTime(sc2.Next))

	// Turned off.
	b.submit("#schedule-daily-news .sched-toggle")
	b.waitText("main#main", "スケジュール daily-news をオフにしました。")
	b.waitText("#schedule-daily-news", "オフ")
	b.waitText("#schedule-daily-news .sched-next", "—（オフ）")
	if sc3, _ := c.svc.Schedule(t.Context(), "daily-news"); !sc3.Paused {
		t.Fatal("not turned off")
	}

	// Deleted, after the question.
	b.submit("#schedule-daily-news .sched-remove")
	b.waitText("main#main", "スケジュール daily-news を削除しました。")
	if b.visible("#schedule-daily-news") {
		t.Fatal("the deleted schedule is still listed")
	}
	if _, err := c.svc.Schedule(t.Context(), "daily-news"); err == nil {
		t.Fatal("the schedule is still stored")
	}
}
