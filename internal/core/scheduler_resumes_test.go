package core

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

// SchedulerResumeOf answers exactly for the deliveries the scheduler's
// resume takes once their window reopens: paused by a daily limit stored
// as such, with a time to go on. Not one paused before causes were stored
// (its reason the limit's), nor one paused by hand; DeliveryProgress
// carries the answer.
func TestResumedBySchedulerIsTheSchedulersOwnTest(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	at := time.Now().Add(time.Hour)
	insert := func(cause string, resumeAfter int64) int64 {
		t.Helper()
		res, err := svc.db.ExecContext(ctx, `INSERT INTO deliveries(name, account, status, cause, reason, resume_after, source, columns_json, template_json, created_at, heartbeat)
			VALUES ('d', 'news', 'paused', ?, 'the account''s limit of 3 messages per 24 hours is reached', ?, 'l.csv', '[]', '{}', ?, ?)`,
			cause, resumeAfter, time.Now().UnixMilli(), time.Now().UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		return id
	}
	stored := insert(CauseDailyLimit, at.UnixMilli())
	old := insert("", at.UnixMilli())
	byHand := insert(CauseByHand, 0)
	noTime := insert(CauseDailyLimit, 0)
	due, err := delivery.DueForResume(ctx, svc.db.DB, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	all, err := svc.SchedulerResumes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]bool{stored: true, old: false, byHand: false, noTime: false} {
		if (all[id] != nil) != want {
			t.Errorf("delivery %d: the listing's SchedulerResumes says %+v, want one: %v", id, all[id], want)
		}
		got, err := svc.SchedulerResumeOf(ctx, id)
		if err != nil || (got != nil) != want {
			t.Errorf("delivery %d: SchedulerResumeOf %+v (%v), want one: %v", id, got, err, want)
		}
		if slices.Contains(due, id) != want {
			t.Errorf("delivery %d: the scheduler's list after the window says %v, want %v", id, !want, want)
		}
		p, err := svc.DeliveryProgress(ctx, id)
		if err != nil || (p.Scheduler != nil) != want {
			t.Errorf("delivery %d: progress says the scheduler resumes it: %+v (%v), want %v", id, p.Scheduler, err, want)
		}
	}
	if p, _ := svc.DeliveryProgress(ctx, old); p.Cause != CauseDailyLimit {
		t.Errorf("the old pause reads as %q; want it still said to be the daily limit's", p.Cause)
	}
}
