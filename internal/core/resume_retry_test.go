package core

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func setPort(t *testing.T, svc *Service, port int) {
	t.Helper()
	if _, err := svc.EditAccount(context.Background(), "news", AccountInput{SMTPPort: &port, Security: Ptr("none")}); err != nil {
		t.Fatal(err)
	}
}

// failingSince reads when delivery id's resumes began failing (0: they do not).
func failingSince(t *testing.T, svc *Service, id int64) int64 {
	t.Helper()
	var ms int64
	if err := svc.db.QueryRowContext(context.Background(), `SELECT resume_failing_since FROM deliveries WHERE id = ?`, id).Scan(&ms); err != nil {
		t.Fatal(err)
	}
	return ms
}

// dueNow makes delivery id's retry time come, as resumeRetry passing would.
func dueNow(t *testing.T, svc *Service, id int64) {
	t.Helper()
	if _, err := svc.db.ExecContext(context.Background(), `UPDATE deliveries SET resume_after = ? WHERE id = ?`, time.Now().Add(-time.Second).UnixMilli(), id); err != nil {
		t.Fatal(err)
	}
}

// A resume at 09:00 that cannot reach the mail server (the network down
// a moment) leaves the delivery due, quietly: tried again resumeRetry
// later (not at the next look), and once the server answers the delivery
// goes on and its failures are forgotten.
func TestScheduledResumeThatCannotConnectIsRetriedQuietly(t *testing.T) {
	svc, srv, id, notify, alerted := dueForResume(t)
	ctx := context.Background()
	realPort, _ := strconv.Atoi(srv.Addr[strings.LastIndex(srv.Addr, ":")+1:])
	setPort(t, svc, closedPort(t))
	before := time.Now()
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	d, _ := svc.Delivery(ctx, id)
	if d.Status != delivery.StatusPaused || d.Cause != delivery.CauseDailyLimit || srv.Count() != 2 {
		t.Fatalf("after a resume that could not connect: %s (%s: %s), %d sent; want still paused by the daily limit", d.Status, d.Cause, d.Reason, srv.Count())
	}
	if d.ResumeAfter.Before(before.Add(resumeRetry - time.Minute)) {
		t.Fatalf("due again at %s; want about %s later", d.ResumeAfter, resumeRetry)
	}
	if failingSince(t, svc, id) == 0 {
		t.Fatal("the failure is not recorded")
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted for a passing failure: %s", a)
	}

	setPort(t, svc, realPort)
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if srv.Count() != 2 {
		t.Fatalf("resumed before its retry time: %d sent", srv.Count())
	}
	dueNow(t, svc, id)
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusDone || srv.Count() != 3 {
		t.Fatalf("once the server answers: %s (%s: %s, after %s), %d sent; want done", d.Status, d.Cause, d.Reason, d.ResumeAfter, srv.Count())
	}
	if failingSince(t, svc, id) != 0 {
		t.Fatal("the failures are still recorded after a resume that went")
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
}

// Resumes that keep failing so for resumeGiveUp stop: the delivery waits
// for a person, paused because the server could not be reached, and one
// alert says what failed and what to do; later looks do not alert again.
func TestScheduledResumeFailingForLongAlertsOnce(t *testing.T) {
	svc, srv, id, notify, alerted := dueForResume(t)
	ctx := context.Background()
	setPort(t, svc, closedPort(t))
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted at the first failure: %s", a)
	}
	// An hour of failures later (in the database, as a restarted serve
	// or the next serve --once reads it).
	if _, err := svc.db.ExecContext(ctx, `UPDATE deliveries SET resume_failing_since = resume_failing_since - ? WHERE id = ?`,
		(resumeGiveUp + time.Minute).Milliseconds(), id); err != nil {
		t.Fatal(err)
	}
	dueNow(t, svc, id)
	for range 3 {
		if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
			t.Fatal(err)
		}
		dueNow(t, svc, id) // were it still due, the next look would try
	}
	a := alerted()
	if strings.Count(a, "\n") != 1 || !strings.Contains(a, "could not resume delivery") || !strings.Contains(a, "deliveries resume "+strconv.FormatInt(id, 10)) {
		t.Fatalf("alerts:\n%s\nwant one, saying the scheduler could not resume it and to resume it", a)
	}
	d, _ := svc.Delivery(ctx, id)
	if d.Status != delivery.StatusPaused || d.Cause != delivery.CauseConnect || srv.Count() != 2 {
		t.Fatalf("%s (%s: %s), %d sent; want paused, the server unreachable, waiting for a person", d.Status, d.Cause, d.Reason, srv.Count())
	}
	if !strings.Contains(d.Reason, "not resumed by the scheduler") {
		t.Fatalf("reason %q does not say the scheduler gave up", d.Reason)
	}
}

// A failure no waiting mends (the account removed, a sign-in needed) is
// not retried: the first look alerts and the delivery waits for a person
// (TestFailedScheduledResumeAlertsOnce); passingFailure sorts them.
func TestPassingFailureSortsFailures(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, true},
		{&net.DNSError{Err: "no such host", Name: "smtp.example.com"}, true},
		{context.DeadlineExceeded, true},
		{&NotFoundError{Kind: KindAccount, Name: "news", Err: errors.New("removed")}, false},
		{errors.New("the journal could not be written"), false},
		{&OutcomeError{Outcome: &delivery.Outcome{Status: delivery.StatusPaused, Cause: delivery.CauseConnect, Passing: true}}, true},
		{&OutcomeError{Outcome: &delivery.Outcome{Status: delivery.StatusPaused, Cause: delivery.CauseConnect}}, false}, // no STARTTLS offered
		{&OutcomeError{Outcome: &delivery.Outcome{Status: delivery.StatusPaused, Cause: delivery.CauseSetup}}, false},
		{&OutcomeError{Outcome: &delivery.Outcome{Status: delivery.StatusPaused, Cause: delivery.CauseSignIn, SignIn: true}}, false},
	} {
		if got := passingFailure(c.err); got != c.want {
			t.Errorf("passingFailure(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// A resume that went (it sent) before the scheduler stopped it no longer
// counts as failing: the next scheduler — serve started at boot, say,
// before the network is up — retries a passing failure of its resume for
// the full hour, quietly, rather than giving up at once because of a
// failure from before that run.
func TestResumeThatSentBeforeTheSchedulerStoppedForgetsEarlierFailures(t *testing.T) {
	svc, srv, id := slowDue(t)
	ctx := context.Background()
	notify, alerted := resumeAlerts(t)
	// Its last resume failed ten minutes ago (the network down a moment);
	// this one, its retry, goes.
	if _, err := svc.db.ExecContext(ctx, `UPDATE deliveries SET resume_failing_since = ? WHERE id = ?`,
		time.Now().Add(-10*time.Minute).UnixMilli(), id); err != nil {
		t.Fatal(err)
	}
	stopAfter(t, svc, srv, id, 3, true, notify)
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || d.Cause != delivery.CauseSchedulerStopped || srv.Count() != 3 {
		t.Fatalf("after the scheduler stopped: %s (%s: %s), %d sent; want paused for the scheduler, 3 sent", d.Status, d.Cause, d.Reason, srv.Count())
	}
	// Two hours later serve starts again, the mail server not reachable yet.
	if _, err := svc.db.ExecContext(ctx, `UPDATE deliveries SET resume_failing_since = resume_failing_since - ?, resume_after = resume_after - ?
		WHERE id = ?`, (2 * time.Hour).Milliseconds(), (2 * time.Hour).Milliseconds(), id); err != nil {
		t.Fatal(err)
	}
	setLimits(t, svc, 600, 100)
	setPort(t, svc, closedPort(t))
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted at the first failure after a resume that went: %s", a)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || d.Cause != delivery.CauseSchedulerStopped || d.ResumeAfter.IsZero() {
		t.Fatalf("%s (%s: %s), due %s; want still due for the scheduler's retry", d.Status, d.Cause, d.Reason, d.ResumeAfter)
	}
}

// A resume that sends for hours (its earlier try, that morning, failed a
// moment) and then loses the network is a new failure: retried quietly
// for its own hour, not given up at once for the morning's.
func TestResumeThatSentForLongThenLostTheServerIsRetriedQuietly(t *testing.T) {
	notify, alerted := resumeAlerts(t)
	var later atomic.Int64 // how far the service's clock is ahead
	srv := startSMTP(t, func(s *smtptest.Server) {
		s.OnData = func(n int64) {
			if n == 10 {
				// Hours of sending later, the server goes away.
				later.Store(int64(3 * time.Hour))
				go s.Close()
			}
		}
	})
	svc := newService(t, Options{Clock: func() time.Time { return time.Now().Add(time.Duration(later.Load())) }})
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1, PerDay: 2})
	ctx := context.Background()
	_, err := svc.Send(ctx, newsInput(t, "news", 40), SendEvents{})
	var oe *OutcomeError
	if !errors.As(err, &oe) || oe.Outcome.Cause != delivery.CauseDailyLimit {
		t.Fatalf("want the delivery paused by the daily limit; got %v", err)
	}
	id := oe.Outcome.ID
	dayPasses(t, svc)
	setLimits(t, svc, 6000, 1000)
	// Its resume failed once, a few minutes ago; this one, its retry, goes.
	if _, err := svc.db.ExecContext(ctx, `UPDATE deliveries SET resume_failing_since = ? WHERE id = ?`,
		time.Now().Add(-5*time.Minute).UnixMilli(), id); err != nil {
		t.Fatal(err)
	}
	err = svc.RunResumeJob(ctx, id, true, notify, SendEvents{})
	if a := alerted(); a != "" {
		t.Fatalf("alerted at the first failure of a resume that sent for hours: %s", a)
	}
	d, _ := svc.Delivery(ctx, id)
	if d.Status != delivery.StatusPaused || d.Cause != delivery.CauseDailyLimit || d.ResumeAfter.IsZero() || srv.Count() < 10 {
		t.Fatalf("%s (%s: %s), due %s, %d sent, err %v; want due again for the scheduler's retry", d.Status, d.Cause, d.Reason, d.ResumeAfter, srv.Count(), err)
	}
}

// A laptop closed just after a resume failed (the network down) and
// opened hours later: the first try after it wakes, before its Wi-Fi is
// back, is not "an hour of failures" — nothing tried in between. It is
// retried quietly; the hour counts from there.
func TestResumeFailingAcrossHoursAsleepIsNotGivenUpAtOnce(t *testing.T) {
	svc, _, id, notify, alerted := dueForResume(t)
	ctx := context.Background()
	setPort(t, svc, closedPort(t))
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if failingSince(t, svc, id) == 0 {
		t.Fatal("the failure is not recorded")
	}
	// Four hours asleep: the retry's time came and went while nothing ran.
	asleep := (4 * time.Hour).Milliseconds()
	if _, err := svc.db.ExecContext(ctx, `UPDATE deliveries SET resume_failing_since = resume_failing_since - ?, resume_after = resume_after - ? WHERE id = ?`,
		asleep, asleep, id); err != nil {
		t.Fatal(err)
	}
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if a := alerted(); a != "" {
		t.Fatalf("gave up at the first try after hours asleep: %s", a)
	}
	d, _ := svc.Delivery(ctx, id)
	if d.Status != delivery.StatusPaused || d.Cause != delivery.CauseDailyLimit || d.ResumeAfter.Before(time.Now()) {
		t.Fatalf("%s (%s: %s), due %s; want due again for the scheduler's retry", d.Status, d.Cause, d.Reason, d.ResumeAfter)
	}
}

// A person's pause that lands after the scheduler's resume paused for a
// server it could not reach, before the scheduler made the delivery due
// again for its retry, holds: the delivery is paused by hand, never
// resumed by the scheduler, and nobody is alerted.
func TestPauseAsTheSchedulersResumeFailsHolds(t *testing.T) {
	svc, srv, id, notify, alerted := dueForResume(t)
	ctx := context.Background()
	setPort(t, svc, closedPort(t))
	var pausedOn string
	resumeFailing = func(got int64) {
		if got != id {
			return
		}
		d, _ := svc.Delivery(ctx, id)
		pausedOn = d.Cause
		res, err := svc.PauseDelivery(ctx, id)
		if err != nil {
			t.Errorf("pause: %v", err)
		} else if res.Already {
			t.Errorf("pause of a delivery the scheduler is about to retry: %q, want it paused by hand", "already paused")
		}
	}
	defer func() { resumeFailing = nil }()
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	resumeFailing = nil
	if pausedOn != delivery.CauseConnect {
		t.Fatalf("the pause came with the delivery paused for %q, want %q (the run's pause, before the retry)", pausedOn, delivery.CauseConnect)
	}
	d, _ := svc.Delivery(ctx, id)
	if d.Status != delivery.StatusPaused || d.Cause != delivery.CauseByHand || !d.ResumeAfter.IsZero() {
		t.Fatalf("after the retry: %s (%s: %s, after %s); want paused by hand, not due", d.Status, d.Cause, d.Reason, d.ResumeAfter)
	}
	dueNow(t, svc, id)
	setPort(t, svc, mustPort(t, srv))
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || d.Cause != delivery.CauseByHand || srv.Count() != 2 {
		t.Fatalf("the next look: %s (%s), %d sent; want still paused by hand, 2 sent", d.Status, d.Cause, srv.Count())
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
}

// A person's pause while the delivery waits for the scheduler's retry of
// a failed resume (paused for the daily limit, its resumes failing) holds
// too.
func TestPauseWhileAResumeWaitsForItsRetryHolds(t *testing.T) {
	svc, srv, id, notify, alerted := dueForResume(t)
	ctx := context.Background()
	setPort(t, svc, closedPort(t))
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if failingSince(t, svc, id) == 0 {
		t.Fatal("the failed resume is not recorded")
	}
	if res, err := svc.PauseDelivery(ctx, id); err != nil || res.Already {
		t.Fatalf("pause of a delivery waiting for its retry: %+v, %v; want paused by hand", res, err)
	}
	dueNow(t, svc, id)
	setPort(t, svc, mustPort(t, srv))
	if err := svc.Serve(ctx, ServeOptions{Once: true, Alert: notify}); err != nil {
		t.Fatal(err)
	}
	if d, _ := svc.Delivery(ctx, id); d.Status != delivery.StatusPaused || d.Cause != delivery.CauseByHand || srv.Count() != 2 {
		t.Fatalf("at its retry time: %s (%s), %d sent; want still paused by hand, 2 sent", d.Status, d.Cause, srv.Count())
	}
	if a := alerted(); a != "" {
		t.Fatalf("alerted: %s", a)
	}
}

func mustPort(t *testing.T, srv *smtptest.Server) int {
	t.Helper()
	port, err := strconv.Atoi(srv.Addr[strings.LastIndex(srv.Addr, ":")+1:])
	if err != nil {
		t.Fatal(err)
	}
	return port
}
