package core

import (
	"context"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// What a face's page costs in reads: its data from one call, each thing
// read once (countQueries).

// The schedules page's data comes from one reading of the schedules: the
// keep-alives' daily test sends are the listed schedules themselves, and
// the states say what KeepAliveStates says.
func TestScheduleOverviewReadsTheSchedulesOnce(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	for _, name := range []string{"quiet", "work"} {
		if err := svc.accounts().Put(ctx, &account.Account{Name: name, From: name + "@example.com", SMTPHost: "h", SMTPPort: 587,
			Security: account.SecurityStartTLS, Auth: account.AuthXOAuth2, Credentials: "corp"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.AddSchedule(ctx, ScheduleInput{Kind: schedule.KindKeepAlive, Target: "quiet", Cron: "@daily", Missed: schedule.MissedSkip}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.AddDailyTestSend(ctx, "work"); err != nil {
		t.Fatal(err)
	}
	want, err := svc.KeepAliveStates(ctx)
	if err != nil {
		t.Fatal(err)
	}

	lists := countQueries(t, svc, "FROM schedules ORDER BY name")
	ov, err := svc.ScheduleOverview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := lists.Load(); n != 1 {
		t.Errorf("the schedules were listed %d times, want once", n)
	}
	if len(ov.Schedules) != 2 || ov.Schedules[0].Name != "keepalive-quiet" || ov.Schedules[1].Name != "keepalive-work" ||
		ov.Schedules[1].Next.IsZero() {
		t.Fatalf("schedules: %+v", ov.Schedules)
	}
	if len(ov.KeepAlive) != len(want) {
		t.Fatalf("%d keep-alive states, want %d", len(ov.KeepAlive), len(want))
	}
	for i, st := range ov.KeepAlive {
		w := want[i]
		if st.Account != w.Account || st.Kind != w.Kind || st.SignIn.Health != w.SignIn.Health || (st.DailyTest == nil) != (w.DailyTest == nil) {
			t.Fatalf("state %d: %+v, want %+v", i, st, w)
		}
	}
	if q, w := ov.KeepAlive[0], ov.KeepAlive[1]; q.Account != "quiet" || q.DailyTest != nil || w.DailyTest != ov.Schedules[1] {
		t.Fatalf("daily tests: quiet %+v, work %+v (want the listed %p)", q.DailyTest, w.DailyTest, ov.Schedules[1])
	}
}

// An account's page reads the account once, and says what Account and
// DailyTestSend say of it.
func TestAccountDetailReadsTheAccountOnce(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	svc := newService(t, Options{Clock: func() time.Time { return now }})
	ctx := context.Background()
	for _, name := range []string{"quiet", "work"} {
		if err := svc.accounts().Put(ctx, &account.Account{Name: name, From: name + "@example.com", SMTPHost: "h", SMTPPort: 587,
			Security: account.SecurityStartTLS, Auth: account.AuthXOAuth2, Credentials: "corp"}); err != nil {
			t.Fatal(err)
		}
	}
	sec, _ := svc.secrets()
	if err := oauth.SaveToken(sec, "work", &oauth.Token{Provider: provider.Microsoft, RefreshToken: "rt", Identity: "work@example.com",
		ObtainedAt: now.Add(-3 * 24 * time.Hour), LastRefreshed: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	daily, _, err := svc.AddDailyTestSend(ctx, "work")
	if err != nil {
		t.Fatal(err)
	}
	want, err := svc.Account(ctx, "work")
	if err != nil {
		t.Fatal(err)
	}

	reads := countQueries(t, svc, "FROM accounts WHERE name")
	d, err := svc.AccountDetail(ctx, "work")
	if err != nil {
		t.Fatal(err)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("the account was read %d times, want once", n)
	}
	if d.Name != "work" || d.Kind != want.Kind || d.SignIn == nil || d.SignIn.Health != HealthOK || d.SignIn.Identity != "work@example.com" ||
		d.PasswordSet != want.PasswordSet {
		t.Fatalf("account: %+v, want %+v", d.AccountInfo, want)
	}
	if d.DailyTest == nil || d.DailyTest.Name != daily.Name || !d.DailyTest.Next.Equal(daily.Next) {
		t.Fatalf("daily test send: %+v, want %+v", d.DailyTest, daily)
	}

	q, err := svc.AccountDetail(ctx, "quiet")
	if err != nil || q.DailyTest != nil || q.SignIn == nil || q.SignIn.Health != HealthSignIn {
		t.Fatalf("quiet: %+v: %v", q, err)
	}
	_, err = svc.AccountDetail(ctx, "nobody")
	wantNotFound(t, err, KindAccount)
}
