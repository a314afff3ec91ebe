package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// Each refused schedule setting is a *FieldError for its input, its
// message the CLI's sentence as before.
func TestScheduleInputErrorsNameTheirField(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	savedNews(t, svc)
	good := func() ScheduleInput {
		return ScheduleInput{Name: "daily", Kind: schedule.KindDelivery, Target: "news", Cron: "0 9 * * *", TZ: "UTC",
			Missed: schedule.MissedSkip, Preflight: time.Hour}
	}
	for _, c := range []struct {
		name   string
		change func(*ScheduleInput)
		field  string
		prefix string // the start of the message, as the CLI has always said it
	}{
		{"bad tz", func(in *ScheduleInput) { in.TZ = "Mars/Olympus" }, "tz", `--tz "Mars/Olympus" is not a time zone name`},
		{"bad tz with --at", func(in *ScheduleInput) { in.Cron, in.At, in.TZ = "", "2099-01-01 09:00", "Mars/Olympus" }, "tz", `--tz "Mars/Olympus" is not a time zone name`},
		{"bad cron", func(in *ScheduleInput) { in.Cron = "0 9 * *" }, "cron", `--cron "0 9 * *": `},
		{"tz inside cron", func(in *ScheduleInput) { in.Cron = "TZ=Asia/Tokyo 0 9 * * *" }, "cron", `--cron "TZ=Asia/Tokyo 0 9 * * *": give the time zone with --tz`},
		{"both --cron and --at", func(in *ScheduleInput) { in.At = "2099-01-01 09:00" }, "cron", "give exactly one of --cron EXPR and --at TIME"},
		{"neither --cron nor --at", func(in *ScheduleInput) { in.Cron = "" }, "cron", "give exactly one of --cron EXPR and --at TIME"},
		{"bad missed", func(in *ScheduleInput) { in.Missed = "sometimes" }, "missed", `--missed "sometimes": use run-once or skip`},
		{"negative preflight", func(in *ScheduleInput) { in.Preflight = -time.Hour }, "preflight", "--preflight -1h0m0s: must not be negative"},
		{"bad at", func(in *ScheduleInput) { in.Cron, in.At = "", "next Tuesday" }, "at", `--at "next Tuesday": use "2026-12-01 09:00"`},
		{"notify email without its account", func(in *ScheduleInput) { in.Alert = alert.Config{Email: "ops@example.com"} }, "notify_email", "--notify-email and --notify-account go together"},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := good()
			c.change(&in)
			_, err := svc.AddSchedule(ctx, in)
			fe := wantField(t, err, c.field)
			if !strings.HasPrefix(fe.Message, c.prefix) {
				t.Errorf("message %q; want it to start %q", fe.Message, c.prefix)
			}
			// Editing says the same.
			if c.name == "bad tz" {
				if _, err := svc.AddSchedule(ctx, good()); err != nil {
					t.Fatal(err)
				}
				_, err := svc.EditSchedule(ctx, "daily", in)
				wantField(t, err, c.field)
			}
		})
	}
	// schedule install's --at and --os.
	_, err := svc.PlanInstall(schedule.Install{KeepAlive: "relay", At: "7 o'clock"})
	wantField(t, err, "at")
	plan, err := svc.PlanInstall(schedule.Install{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = plan.Text("plan9")
	wantField(t, err, "os")
}

// The input is told by the error's type, not its wording: a message that
// does not start with its flag still names it, wrapped or not, and one
// that reads like a flag's but is no schedule input is left as it is.
func TestScheduleFlagErrorReadsTheTypeNotTheWords(t *testing.T) {
	ie := &schedule.InputError{Flag: "preflight", Err: errors.New("the check must come before the run")}
	for _, err := range []error{ie, fmt.Errorf("schedule daily: %w", ie)} {
		var fe *FieldError
		if !errors.As(flagError(err), &fe) || fe.Field != "preflight" || fe.Message != err.Error() || !errors.Is(fe, ie) {
			t.Errorf("flagError(%q) = %#v; want a FieldError for preflight with the message unchanged", err, flagError(err))
		}
	}
	plain := errors.New("--tz the database is locked")
	if got := flagError(plain); got != plain {
		t.Errorf("flagError of an error that is no input's = %#v; want it unchanged", got)
	}
}
