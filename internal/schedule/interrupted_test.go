package schedule

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The scheduler stopping while a scheduled delivery waits for its account
// (another of its schedules sending through it) leaves that run's
// occurrence on the schedule: the next scheduler runs it once, however
// late and whatever the missed policy, and the run that had started is
// not run again (its delivery is the resume's).
func TestARunWaitingForItsAccountWhenTheSchedulerStopsRunsAtTheNextStart(t *testing.T) {
	due := utc("2026-11-26T09:00:00Z")
	r := newRig(t, due.Add(-time.Minute))
	r.add(t, &Schedule{Name: "a", Target: "news", Cron: "0 9 * * *", TZ: "UTC"})
	r.add(t, &Schedule{Name: "b", Target: "news", Cron: "0 9 * * *", TZ: "UTC"})
	release := make(chan struct{})
	r.runner.block["a"], r.runner.block["b"] = release, release
	waiting := make(chan string, 2)
	r.sched.OnWait = func(j Job, _ string) { waiting <- j.Schedule.Name }

	ctx, stop := context.WithCancel(context.Background())
	r.clock.Set(due)
	if _, err := r.sched.Tick(ctx, due); err != nil {
		t.Fatal(err)
	}
	ran := (<-r.runner.seen).Schedule.Name
	waiter := <-waiting
	if ran == waiter {
		t.Fatalf("%s both ran and waited", ran)
	}
	stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s, err := r.st.Get(context.Background(), waiter)
		if err != nil {
			t.Fatal(err)
		}
		if s.Interrupted.Equal(due) && s.LastInterrupted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the waiting run is not recorded as interrupted: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	r.sched.Wait()
	if s, _ := r.st.Get(context.Background(), ran); !s.Interrupted.IsZero() || s.LastInterrupted {
		t.Fatalf("the run that had started is recorded as interrupted: %+v", s)
	}

	// The next scheduler, an hour later (well past the grace).
	r2 := &Scheduler{Store: r.st, Clock: r.clock, Runner: r.runner, Log: r.sched.Log, AccountOf: r.sched.AccountOf}
	r.sched = r2
	before := len(r.runner.all())
	r.tick(t, due.Add(time.Hour))
	jobs := r.runner.all()[before:]
	if len(jobs) != 1 || jobs[0].Schedule.Name != waiter || !jobs[0].Due.Equal(due) || !jobs[0].Rerun {
		t.Fatalf("the next start ran %+v; want %s's run due %v, once", jobs, waiter, due)
	}
	if !strings.Contains(r.log.String(), "stopped with the scheduler before it sent anything: running it now") {
		t.Fatalf("the rerun is not logged:\n%s", r.log)
	}
	s, _ := r.st.Get(context.Background(), waiter)
	if !s.Interrupted.IsZero() || s.LastInterrupted || s.LastExit != 0 {
		t.Fatalf("after the rerun: %+v; want it recorded as run", s)
	}
	r.tick(t, due.Add(2*time.Hour))
	if n := len(r.runner.all()); n != before+1 {
		t.Fatalf("%d jobs after another pass; want no more", n-before)
	}
}

// An interrupted run that a later occurrence, already due, supersedes is
// one of the runs missed: the policy decides, and it runs no more than
// once.
func TestAnInterruptedRunSupersededByALaterOneFollowsTheMissedPolicy(t *testing.T) {
	for _, policy := range []Missed{MissedSkip, MissedRunOnce} {
		t.Run(string(policy), func(t *testing.T) {
			first := utc("2026-11-26T09:00:00Z")
			r := newRig(t, first.Add(-time.Minute))
			r.add(t, &Schedule{Name: "hourly", Target: "news", Cron: "0 * * * *", TZ: "UTC", Missed: policy})
			if _, err := r.st.Update(context.Background(), "hourly", func(s *Schedule) error { s.LastDue = first; return nil }); err != nil {
				t.Fatal(err)
			}
			if err := r.st.MarkInterrupted(context.Background(), "hourly", first, first); err != nil {
				t.Fatal(err)
			}
			r.tick(t, first.Add(3*time.Hour+30*time.Minute))
			jobs := r.runner.all()
			want := 0
			if policy == MissedRunOnce {
				want = 1
			}
			if len(jobs) != want {
				t.Fatalf("%d runs; want %d", len(jobs), want)
			}
			if want == 1 && !jobs[0].Due.Equal(first.Add(3*time.Hour)) {
				t.Fatalf("ran %v; want the latest occurrence", jobs[0].Due)
			}
			if !strings.Contains(r.log.String(), "a later run is due now and takes its place") {
				t.Fatalf("the superseded run is not logged:\n%s", r.log)
			}
			if s, _ := r.st.Get(context.Background(), "hourly"); !s.Interrupted.IsZero() {
				t.Fatalf("still interrupted: %+v", s)
			}
			r.tick(t, first.Add(3*time.Hour+40*time.Minute))
			if n := len(r.runner.all()); n != want {
				t.Fatalf("%d runs after another pass; want %d", n, want)
			}
		})
	}
}
