package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/gofrs/flock"
)

// The console's scheduler (StartServe, in this process) resumes a delivery
// paused by the account's daily limit once the limit has reset, as
// `bluemoon serve` does (tests/automatic covers that, with child
// processes, day after day).
func TestBackgroundServeResumesADeliveryOnceItsDailyLimitResets(t *testing.T) {
	svc, srv, id := pausedByTheDailyLimit(t)
	ctx := context.Background()

	if _, err := svc.StartServe(ctx, ServeOptions{Poll: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	defer svc.StopServe()
	time.Sleep(200 * time.Millisecond) // ten looks
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || srv.Count() != 2 {
		t.Fatalf("resumed before its limit reset: %s, %d sent", d.Status, srv.Count())
	}

	dayPasses(t, svc)
	deadline := time.Now().Add(20 * time.Second)
	for {
		d, err := svc.Delivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if d.Status == delivery.StatusDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not resumed once its limit reset: %s (%s), %d sent", d.Status, d.Reason, srv.Count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if srv.Count() != 3 {
		t.Fatalf("%d messages in all, want 3", srv.Count())
	}
}

// A due delivery whose account is busy sending a delivery started by hand
// (in another process) is not resumed then, and nobody is alerted for it:
// the scheduler tries again later and resumes it once the account is free.
func TestDueResumeWaitsForABusyAccountWithoutAlerting(t *testing.T) {
	svc, srv, id, notify, alerted := dueForResume(t)
	ctx := context.Background()

	os.MkdirAll(filepath.Join(svc.Home(), "locks"), 0o700)
	held := flock.New(AccountLockFile(svc.Home(), "news"))
	if ok, err := held.TryLock(); err != nil || !ok {
		t.Fatal(err)
	}
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || d.Cause != delivery.CauseDailyLimit || srv.Count() != 2 {
		t.Fatalf("with the account busy: %s (%s), %d sent; want it left paused by the daily limit, due", d.Status, d.Cause, srv.Count())
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted for a busy account: %s", a)
	}
	held.Unlock()
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusDone || srv.Count() != 3 {
		t.Fatalf("once the account is free: %s, %d sent; want done, 3 sent", d.Status, srv.Count())
	}
}

// pausedByTheDailyLimit sends 3 recipients through an account allowed 2 a
// day: the delivery (id) pauses after 2, to go on a day later.
func pausedByTheDailyLimit(t *testing.T) (*Service, *smtptest.Server, int64) {
	t.Helper()
	return pausedAfterTwo(t, 3)
}

// pausedAfterTwo is pausedByTheDailyLimit of n recipients.
func pausedAfterTwo(t *testing.T, n int) (*Service, *smtptest.Server, int64) {
	t.Helper()
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1, PerDay: 2})
	_, err := svc.Send(context.Background(), newsInput(t, "news", n), SendEvents{})
	var oe *OutcomeError
	if !errors.As(err, &oe) || oe.Outcome.Cause != delivery.CauseDailyLimit || srv.Count() != 2 {
		t.Fatalf("want the delivery paused by the daily limit after 2; got %v, %d sent", err, srv.Count())
	}
	return svc, srv, oe.Outcome.ID
}

// dayPasses moves the account's sending and the deliveries' resume times
// 25 hours back: as if a day had gone by.
func dayPasses(t *testing.T, svc *Service) {
	t.Helper()
	for _, q := range []string{`UPDATE send_log SET minute = minute - 1500`,
		`UPDATE deliveries SET resume_after = resume_after - 1500 * 60000 WHERE resume_after > 0`} {
		if _, err := svc.db.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
}

// resumeAlerts is where the alerts of the scheduler's resumes go in these
// tests, and a reader of what was alerted.
// dueForResume is a delivery (id) paused by its account's daily limit a
// day ago, due for the scheduler's resume, with alerts going to notify
// and read back by alerted.
func dueForResume(t *testing.T) (svc *Service, srv *smtptest.Server, id int64, notify alert.Config, alerted func() string) {
	t.Helper()
	notify, alerted = resumeAlerts(t)
	svc, srv, id = pausedByTheDailyLimit(t)
	dayPasses(t, svc)
	return svc, srv, id, notify, alerted
}

func resumeAlerts(t *testing.T) (alert.Config, func() string) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the alert command uses /bin/sh")
	}
	file := filepath.Join(t.TempDir(), "alerts.json")
	return alert.Config{Command: "cat >> " + file}, func() string {
		raw, _ := os.ReadFile(file)
		return string(raw)
	}
}

// A delivery the scheduler found due and paused by hand before the resume
// got to it (the child process starting, or waiting for the account) stays
// paused by hand: the resume looks again once it holds the locks.
func TestScheduledResumeLeavesADeliveryPausedByHandMeanwhile(t *testing.T) {
	svc, srv, id, notify, alerted := dueForResume(t)
	ctx := context.Background()
	if _, err := svc.PauseDelivery(ctx, id); err != nil {
		t.Fatal(err)
	}
	// What the child started for it (schedule run --resume-delivery) does.
	if err := svc.RunResumeJob(ctx, id, true, notify, SendEvents{}); err != nil {
		t.Fatalf("resume of a delivery paused by hand meanwhile: %v", err)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || d.Cause != delivery.CauseByHand || srv.Count() != 2 {
		t.Fatalf("after the scheduler's resume: %s (%s), %d sent; want still paused by hand, 2 sent", d.Status, d.Cause, srv.Count())
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
}

// A delivery resumed by a person (and finished) while the scheduler's
// resume of it waited is not resumed again, and nobody is alerted that
// the scheduler's resume failed.
func TestScheduledResumeOfADeliveryFinishedMeanwhileIsQuiet(t *testing.T) {
	svc, srv, id, notify, alerted := dueForResume(t)
	ctx := context.Background()
	if _, err := svc.Resume(ctx, id, ResumeInput{DailyWait: DefaultDailyWait}, SendEvents{}); err != nil {
		t.Fatal(err)
	}
	if err := svc.RunResumeJob(ctx, id, true, notify, SendEvents{}); err != nil {
		t.Fatalf("scheduler's resume of a delivery done meanwhile: %v", err)
	}
	if srv.Count() != 3 {
		t.Fatalf("%d sent, want 3", srv.Count())
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
}

// While one resume of a delivery waits for its account (a scheduled
// delivery of that account is sending), a second one (serve --once, run
// by cron a minute later) returns at once rather than queue behind it;
// the first resumes the delivery once the account is free, once.
func TestSecondScheduledResumeDoesNotQueueBehindTheFirst(t *testing.T) {
	svc, srv, id, notify, alerted := dueForResume(t)
	ctx := context.Background()
	unqueue, err := schedule.LockAccount(ctx, svc.Home(), "news", nil) // a scheduled delivery of the account
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan error, 1)
	go func() { first <- svc.RunResumeJob(ctx, id, true, notify, SendEvents{}) }()
	time.Sleep(300 * time.Millisecond) // the first is waiting for the account
	second := make(chan error, 1)
	go func() { second <- svc.RunResumeJob(ctx, id, true, notify, SendEvents{}) }()
	select {
	case err := <-second:
		if err != nil {
			t.Fatalf("second resume: %v", err)
		}
	case <-time.After(3 * time.Second):
		unqueue()
		<-first
		<-second
		t.Fatal("the second resume queued behind the first")
	}
	unqueue()
	if err := <-first; err != nil {
		t.Fatalf("first resume: %v", err)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusDone || srv.Count() != 3 {
		t.Fatalf("%s, %d sent; want done, 3 sent", d.Status, srv.Count())
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
}

// A due delivery whose resume cannot get going (its account gone) is
// alerted once, and left paused for that reason: not tried again, and
// alerted again, at every look of every serve --once.
func TestFailedScheduledResumeAlertsOnce(t *testing.T) {
	svc, srv, id, notify, alerted := dueForResume(t)
	ctx := context.Background()
	// Removed by a version that did not refuse it.
	if _, err := svc.db.ExecContext(ctx, `DELETE FROM accounts WHERE name = 'news'`); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(alerted(), "\n"); n != 1 {
		t.Fatalf("%d alerts, want 1:\n%s", n, alerted())
	}
	d, _ := svc.Delivery(ctx, id)
	if d.Status != delivery.StatusPaused || d.Cause == delivery.CauseDailyLimit || !strings.Contains(d.Reason, "removed") || srv.Count() != 2 {
		t.Fatalf("%s (%s: %s), %d sent; want paused for the missing account, no longer due", d.Status, d.Cause, d.Reason, srv.Count())
	}
	if !d.ResumeAfter.IsZero() {
		t.Fatalf("resume after %s, want none", d.ResumeAfter)
	}
}

// A resume waiting for its account when the scheduler stops (SIGTERM)
// alerts nobody and leaves the delivery due, for the next scheduler.
func TestScheduledResumeStoppedWhileQueuedIsQuiet(t *testing.T) {
	svc, srv, id := pausedByTheDailyLimit(t)
	dayPasses(t, svc)
	notify, alerted := resumeAlerts(t)
	unqueue, err := schedule.LockAccount(context.Background(), svc.Home(), "news", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unqueue()
	ctx, stop := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer stop()
	if err := svc.RunResumeJob(ctx, id, true, notify, SendEvents{}); err != nil {
		t.Fatalf("resume stopped while queued: %v", err)
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
	due, err := delivery.DueForResume(context.Background(), svc.db.DB, time.Now())
	if err != nil || len(due) != 1 || due[0] != id || srv.Count() != 2 {
		t.Fatalf("due %v (%v), %d sent; want delivery %d still due, 2 sent", due, err, srv.Count(), id)
	}
}

// Two deliveries of one account due together are resumed one after the
// other: the first takes the day's sending, the second, finding the limit
// spent again, pauses for the next day; nobody is alerted.
func TestTwoDueDeliveriesOfOneAccountResumeInTurn(t *testing.T) {
	svc, srv, first := pausedByTheDailyLimit(t)
	ctx := context.Background()
	_, err := svc.Send(ctx, newsInput(t, "news", 3), SendEvents{})
	var oe *OutcomeError
	if !errors.As(err, &oe) || oe.Outcome.Cause != delivery.CauseDailyLimit || srv.Count() != 2 {
		t.Fatalf("second delivery: want it paused by the daily limit at once; got %v, %d sent", err, srv.Count())
	}
	second := oe.Outcome.ID
	dayPasses(t, svc)
	notify, alerted := resumeAlerts(t)
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if srv.Count() != 4 {
		t.Fatalf("%d sent in all, want 4 (2 a day)", srv.Count())
	}
	for _, id := range []int64{first, second} {
		d, _ := svc.Delivery(ctx, id)
		if d.Status == delivery.StatusDone {
			continue
		}
		if d.Status != delivery.StatusPaused || d.Cause != delivery.CauseDailyLimit || !d.ResumeAfter.After(time.Now()) {
			t.Fatalf("delivery %d: %s (%s) resume after %s; want done, or paused by the daily limit until tomorrow", id, d.Status, d.Cause, d.ResumeAfter)
		}
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
}

// A pause by hand that lands while the scheduler's resume is getting the
// account's credentials (after it looked at the delivery, before the run
// starts) holds too: the run starts only a delivery still paused by the
// daily limit.
func TestPauseByHandAsAScheduledResumeStartsHolds(t *testing.T) {
	svc, srv, id, notify, alerted := dueForResume(t)
	ctx := context.Background()
	ev := SendEvents{Recovered: func(*delivery.Recovery) {
		if _, err := svc.PauseDelivery(ctx, id); err != nil {
			t.Error(err)
		}
	}}
	if err := svc.RunResumeJob(ctx, id, true, notify, ev); err != nil {
		t.Fatalf("resume of a delivery paused by hand as it started: %v", err)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || d.Cause != delivery.CauseByHand || srv.Count() != 2 {
		t.Fatalf("after the scheduler's resume: %s (%s), %d sent; want still paused by hand, 2 sent", d.Status, d.Cause, srv.Count())
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
}

// diesMidRun is a runner whose job process dies as it sends: the
// delivery is left running, and the process raised no alert.
type diesMidRun struct{ svc *Service }

func (r diesMidRun) Run(ctx context.Context, j schedule.Job) schedule.Result {
	if _, err := r.svc.db.ExecContext(ctx, `UPDATE deliveries SET status = 'running', cause = '', resume_after = 0, heartbeat = ? WHERE id = ?`,
		time.Now().UnixMilli(), j.Schedule.Target); err != nil {
		panic(err)
	}
	return schedule.Result{ExitCode: -1, Message: "signal: killed"}
}

// A resume whose process dies as it sends (killed, a crash) leaves the
// delivery interrupted, which the scheduler does not resume by itself:
// a person is told, once.
func TestResumeThatDiesMidRunIsAlerted(t *testing.T) {
	svc, _, id := pausedByTheDailyLimit(t)
	ctx := context.Background()
	dayPasses(t, svc)
	notify, alerted := resumeAlerts(t)
	for range 2 {
		if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify, Runner: diesMidRun{svc}}); err != nil {
			t.Fatal(err)
		}
	}
	a := alerted()
	if strings.Count(a, "\n") != 1 || !strings.Contains(a, "delivery_failed") || !strings.Contains(a, "deliveries resume") {
		t.Fatalf("alerts:\n%s\nwant one, delivery_failed, saying to resume it", a)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status == delivery.StatusPaused {
		t.Fatalf("the dead run's delivery is paused (%s); want it left running/interrupted for a person", d.Cause)
	}
}

// countingRunner counts the jobs it is given and does nothing: as a resume
// whose delivery's lock another process holds, which ends with success.
type countingRunner struct{ n *atomic.Int64 }

func (r countingRunner) Run(context.Context, schedule.Job) schedule.Result {
	r.n.Add(1)
	return schedule.Result{ExitCode: 0, Message: "ok"}
}

// A due delivery that a resume left due although it succeeded (another
// process held its lock) is not given a job at every poll.
func TestDueDeliveryLeftDueIsNotResumedAtEveryPoll(t *testing.T) {
	svc, _, _ := pausedByTheDailyLimit(t)
	dayPasses(t, svc)
	var n atomic.Int64
	if _, err := svc.StartServe(context.Background(), ServeOptions{Poll: 20 * time.Millisecond, Runner: countingRunner{&n}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // 15 polls
	svc.StopServe()
	if n.Load() != 1 {
		t.Fatalf("%d resume jobs in 15 polls, want 1", n.Load())
	}
}

// While the scheduler's resume of a delivery waits for its account, it
// holds the delivery's lock: a person's Resume meanwhile is told the
// delivery runs or waits to run elsewhere, not only that it runs.
func TestResumeOfADeliveryWaitingElsewhereSaysSo(t *testing.T) {
	svc, _, id := pausedByTheDailyLimit(t)
	unlock, err := svc.lockDelivery(id) // as the scheduler's queued resume holds it
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = svc.Resume(context.Background(), id, ResumeInput{DailyWait: DefaultDailyWait}, SendEvents{})
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Kind != KindDelivery || !strings.Contains(err.Error(), "or waiting there for its account to run") {
		t.Fatalf("want the delivery said busy, running or waiting elsewhere; got %v", err)
	}
}
