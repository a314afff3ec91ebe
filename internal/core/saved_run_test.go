package core

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// A saved delivery run by hand is checked, then runs in the background
// under its own name; one a schedule runs cannot be removed until the
// schedule goes.
func TestStartSavedAndRemoveInUse(t *testing.T) {
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	ctx := context.Background()
	saveMonthly(t, svc, srv)
	c, err := svc.CheckSaved(ctx, "monthly")
	if err != nil || c.Preflight.Ready != 3 || srv.Count() != 0 {
		t.Fatalf("check: %v %+v, server %d", err, c, srv.Count())
	}
	if _, err := svc.StartSaved(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("start of a missing one: %v", err)
	}
	res, err := svc.StartSaved(ctx, "monthly")
	if err != nil || res.DeliveryID == 0 {
		t.Fatalf("start: %v %+v", err, res)
	}
	if out, err := svc.WaitDelivery(ctx, res.DeliveryID); err != nil || out.Status != delivery.StatusDone || srv.Count() != 3 {
		t.Fatalf("wait: %v %+v, server %d", err, out, srv.Count())
	}
	if d, _ := svc.Delivery(ctx, res.DeliveryID); d.Name != "monthly" {
		t.Fatalf("named %q", d.Name)
	}

	for _, n := range []string{"b-weekly", "a-daily"} {
		if _, err := svc.AddSchedule(ctx, ScheduleInput{Name: n, Kind: schedule.KindDelivery, Target: "monthly", Cron: "0 9 * * *", Missed: schedule.MissedSkip}); err != nil {
			t.Fatal(err)
		}
	}
	err = svc.RemoveSavedDelivery(ctx, "monthly")
	var iu *InUseError
	if !errors.As(err, &iu) || !slices.Equal(iu.By, []string{"a-daily", "b-weekly"}) || exitcode.For(err) != exitcode.Usage {
		t.Fatalf("remove in use: %v", err)
	}
	if _, err := svc.SavedDelivery(ctx, "monthly"); err != nil {
		t.Fatalf("removed anyway: %v", err)
	}
	for _, n := range iu.By {
		if err := svc.RemoveSchedule(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := svc.RemoveSavedDelivery(ctx, "monthly"); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveSavedDelivery(ctx, "monthly"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
}
