package schedule

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/store"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

type fakeRunner struct {
	mu    sync.Mutex
	jobs  []Job
	seen  chan Job
	block map[string]chan struct{} // schedule name → released when closed
}

func newFakeRunner() *fakeRunner {
	return &fakeRunner{seen: make(chan Job, 100), block: map[string]chan struct{}{}}
}

func (r *fakeRunner) Run(ctx context.Context, job Job) Result {
	r.mu.Lock()
	r.jobs = append(r.jobs, job)
	b := r.block[job.Schedule.Name]
	r.mu.Unlock()
	r.seen <- job
	if b != nil {
		<-b
	}
	return Result{ExitCode: 0, Message: "ok"}
}

func (r *fakeRunner) all() []Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Job(nil), r.jobs...)
}

type rig struct {
	st     *Store
	clock  *fakeClock
	runner *fakeRunner
	sched  *Scheduler
	log    *testbin.Buffer
}

func newRig(t *testing.T, start time.Time) *rig {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &rig{st: &Store{DB: db.DB}, clock: newFakeClock(start), runner: newFakeRunner(), log: &testbin.Buffer{}}
	r.sched = &Scheduler{
		Store: r.st, Clock: r.clock, Runner: r.runner, Log: slog.New(slog.NewTextHandler(r.log, nil)),
		AccountOf: func(_ context.Context, s *Schedule) (string, error) { return "acct-of-" + s.Target, nil },
	}
	return r
}

func (r *rig) add(t *testing.T, s *Schedule) {
	t.Helper()
	if s.Kind == "" {
		s.Kind = KindDelivery
	}
	if s.Missed == "" {
		s.Missed = MissedSkip
	}
	if s.CreatedAt.IsZero() {
		s.CreatedAt = r.clock.Now()
	}
	if err := r.st.Add(context.Background(), s); err != nil {
		t.Fatal(err)
	}
}

// tick runs one scheduler pass at t and waits for the jobs it started.
func (r *rig) tick(t *testing.T, at time.Time) time.Time {
	t.Helper()
	r.clock.Set(at)
	next, err := r.sched.Tick(context.Background(), at)
	if err != nil {
		t.Fatal(err)
	}
	r.sched.Wait()
	return next
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCronInTokyoRunsAtNineJST(t *testing.T) {
	r := newRig(t, utc("2026-11-26T00:30:00Z")) // 09:30 in Tokyo: today's 09:00 is past
	r.add(t, &Schedule{Name: "morning", Target: "news", Cron: "0 9 * * *", TZ: "Asia/Tokyo"})

	next := r.tick(t, utc("2026-11-26T00:30:00Z"))
	if want := utc("2026-11-27T00:00:00Z"); !next.Equal(want) {
		t.Fatalf("next wake %v, want %v (09:00 JST is 00:00 UTC)", next, want)
	}
	r.tick(t, utc("2026-11-26T23:59:59Z"))
	if n := len(r.runner.all()); n != 0 {
		t.Fatalf("%d runs before 09:00 JST", n)
	}
	r.tick(t, utc("2026-11-27T00:00:00Z"))
	jobs := r.runner.all()
	if len(jobs) != 1 || !jobs[0].Due.Equal(utc("2026-11-27T00:00:00Z")) || jobs[0].Preflight {
		t.Fatalf("jobs %+v, want one run due 2026-11-27T00:00Z", jobs)
	}
	r.tick(t, utc("2026-11-27T00:00:30Z"))
	if n := len(r.runner.all()); n != 1 {
		t.Fatalf("the same occurrence ran %d times", n)
	}
	got, _ := r.st.Get(context.Background(), "morning")
	if got.LastExit != 0 || got.LastMessage != "ok" || got.LastRunAt.IsZero() {
		t.Fatalf("result not recorded: %+v", got)
	}
}

func TestUTCAndLocalZonesDiffer(t *testing.T) {
	s := &Schedule{Cron: "0 9 * * *", TZ: "UTC"}
	n, _ := s.Next(utc("2026-11-26T00:30:00Z"))
	s.TZ = "America/New_York"
	m, _ := s.Next(utc("2026-11-26T00:30:00Z"))
	if !n.Equal(utc("2026-11-26T09:00:00Z")) || !m.Equal(utc("2026-11-26T14:00:00Z")) {
		t.Fatalf("UTC %v, New York %v", n, m)
	}
}

func TestMissedRunOncePolicy(t *testing.T) {
	r := newRig(t, utc("2026-11-20T12:00:00Z"))
	r.add(t, &Schedule{Name: "daily", Target: "news", Cron: "0 9 * * *", TZ: "UTC", Missed: MissedRunOnce})
	// serve was down from the 20th to the 23rd at 10:00: three 09:00 runs missed.
	r.tick(t, utc("2026-11-23T10:00:00Z"))
	jobs := r.runner.all()
	if len(jobs) != 1 || !jobs[0].Due.Equal(utc("2026-11-23T09:00:00Z")) || jobs[0].Missed != 3 {
		t.Fatalf("jobs %+v, want exactly one catch-up run for 11-23 09:00 counting 3 missed", jobs)
	}
	if !strings.Contains(r.log.String(), "running it once now") || !strings.Contains(r.log.String(), "missed=3") {
		t.Fatalf("missed run not logged:\n%s", r.log)
	}
	r.tick(t, utc("2026-11-23T10:01:00Z"))
	r.tick(t, utc("2026-11-24T09:00:00Z"))
	if jobs := r.runner.all(); len(jobs) != 2 || !jobs[1].Due.Equal(utc("2026-11-24T09:00:00Z")) || jobs[1].Missed != 0 {
		t.Fatalf("after catching up, the next run should be on time: %+v", jobs)
	}
}

func TestMissedSkipPolicy(t *testing.T) {
	r := newRig(t, utc("2026-11-20T12:00:00Z"))
	r.add(t, &Schedule{Name: "daily", Target: "news", Cron: "0 9 * * *", TZ: "UTC", Missed: MissedSkip})
	r.tick(t, utc("2026-11-23T10:00:00Z"))
	if n := len(r.runner.all()); n != 0 {
		t.Fatalf("skip policy ran %d jobs", n)
	}
	if !strings.Contains(r.log.String(), "skipped") {
		t.Fatalf("skip not logged:\n%s", r.log)
	}
	r.tick(t, utc("2026-11-24T09:00:10Z"))
	if jobs := r.runner.all(); len(jobs) != 1 || !jobs[0].Due.Equal(utc("2026-11-24T09:00:00Z")) {
		t.Fatalf("the next occurrence should run: %+v", jobs)
	}
}

func TestSlightlyLateIsNotMissed(t *testing.T) {
	r := newRig(t, utc("2026-11-20T12:00:00Z"))
	r.add(t, &Schedule{Name: "daily", Target: "news", Cron: "0 9 * * *", TZ: "UTC", Missed: MissedSkip})
	r.tick(t, utc("2026-11-21T09:00:45Z")) // a minutely `serve --once` comes 45 s late
	if n := len(r.runner.all()); n != 1 {
		t.Fatalf("a run 45 s late (grace %v) should run, not be skipped: %d runs", DefaultGrace, n)
	}
}

func TestOneOffRunsOnce(t *testing.T) {
	r := newRig(t, utc("2026-11-26T00:00:00Z"))
	r.add(t, &Schedule{Name: "once", Target: "news", At: utc("2026-12-01T00:00:00Z"), TZ: "UTC"})
	r.tick(t, utc("2026-12-01T00:00:00Z"))
	next := r.tick(t, utc("2026-12-02T00:00:00Z"))
	if n := len(r.runner.all()); n != 1 || !next.IsZero() {
		t.Fatalf("one-off ran %d times; next wake %v", n, next)
	}
}

func TestPausedDoesNotRunAndResumeForgetsThePause(t *testing.T) {
	r := newRig(t, utc("2026-11-20T00:00:00Z"))
	r.add(t, &Schedule{Name: "daily", Target: "news", Cron: "0 9 * * *", TZ: "UTC", Missed: MissedRunOnce})
	ctx := context.Background()
	if _, err := r.st.SetPaused(ctx, "daily", true, r.clock.Now()); err != nil {
		t.Fatal(err)
	}
	r.tick(t, utc("2026-11-22T09:00:00Z"))
	if _, err := r.st.SetPaused(ctx, "daily", false, utc("2026-11-22T12:00:00Z")); err != nil {
		t.Fatal(err)
	}
	r.tick(t, utc("2026-11-22T12:00:01Z"))
	if n := len(r.runner.all()); n != 0 {
		t.Fatalf("runs due while paused must not be caught up on resume: %d runs", n)
	}
	r.tick(t, utc("2026-11-23T09:00:00Z"))
	if n := len(r.runner.all()); n != 1 {
		t.Fatalf("after resume the next occurrence runs: %d", n)
	}
}

func TestPreflightADayAhead(t *testing.T) {
	r := newRig(t, utc("2026-11-20T00:00:00Z"))
	r.add(t, &Schedule{Name: "monthly", Target: "news", Cron: "0 9 1 * *", TZ: "UTC", Preflight: 24 * time.Hour})
	next := r.tick(t, utc("2026-11-29T12:00:00Z"))
	if want := utc("2026-11-30T09:00:00Z"); !next.Equal(want) || len(r.runner.all()) != 0 {
		t.Fatalf("next wake %v (want the preflight time %v), jobs %d", next, want, len(r.runner.all()))
	}
	r.tick(t, utc("2026-11-30T09:00:00Z"))
	r.tick(t, utc("2026-11-30T15:00:00Z")) // not twice for the same occurrence
	jobs := r.runner.all()
	if len(jobs) != 1 || !jobs[0].Preflight || !jobs[0].Due.Equal(utc("2026-12-01T09:00:00Z")) {
		t.Fatalf("jobs %+v, want one preflight for 12-01 09:00", jobs)
	}
	r.tick(t, utc("2026-12-01T09:00:00Z"))
	jobs = r.runner.all()
	if len(jobs) != 2 || jobs[1].Preflight {
		t.Fatalf("the delivery itself should run at 09:00: %+v", jobs)
	}
}

func TestPreflightAtStartWhenInsideTheWindow(t *testing.T) {
	r := newRig(t, utc("2026-11-20T00:00:00Z"))
	r.add(t, &Schedule{Name: "monthly", Target: "news", Cron: "0 9 1 * *", TZ: "UTC", Preflight: 24 * time.Hour})
	r.tick(t, utc("2026-12-01T08:00:00Z")) // serve starts an hour before the delivery
	if jobs := r.runner.all(); len(jobs) != 1 || !jobs[0].Preflight {
		t.Fatalf("a preflight should run at once: %+v", jobs)
	}
}

func TestOneDeliveryPerAccountAtATime(t *testing.T) {
	r := newRig(t, utc("2026-11-26T00:00:00Z"))
	// Two schedules for two saved deliveries through the same account.
	r.sched.AccountOf = func(context.Context, *Schedule) (string, error) { return "sales", nil }
	waited := make(chan string, 2)
	r.sched.OnWait = func(job Job, acct string) { waited <- job.Schedule.Name + "@" + acct }
	r.add(t, &Schedule{Name: "a", Target: "news-a", Cron: "0 9 * * *", TZ: "UTC"})
	r.add(t, &Schedule{Name: "b", Target: "news-b", Cron: "0 9 * * *", TZ: "UTC"})
	release := map[string]chan struct{}{"a": make(chan struct{}), "b": make(chan struct{})}
	r.runner.block = release

	at := utc("2026-11-26T09:00:00Z")
	r.clock.Set(at)
	if _, err := r.sched.Tick(context.Background(), at); err != nil {
		t.Fatal(err)
	}
	first := <-r.runner.seen
	w := <-waited // the other one is now parked on the account
	other := map[string]string{"a": "b", "b": "a"}[first.Schedule.Name]
	if w != other+"@sales" {
		t.Fatalf("waiting: %q, want %s@sales", w, other)
	}
	if n := len(r.runner.all()); n != 1 {
		t.Fatalf("%d deliveries running on one account", n)
	}
	close(release[first.Schedule.Name])
	second := <-r.runner.seen
	if second.Schedule.Name != other {
		t.Fatalf("second run %s, want %s", second.Schedule.Name, other)
	}
	close(release[other])
	r.sched.Wait()
}

func TestDifferentAccountsRunTogether(t *testing.T) {
	r := newRig(t, utc("2026-11-26T00:00:00Z"))
	r.add(t, &Schedule{Name: "a", Target: "news-a", Cron: "0 9 * * *", TZ: "UTC"})
	r.add(t, &Schedule{Name: "b", Target: "news-b", Cron: "0 9 * * *", TZ: "UTC"})
	release := make(chan struct{})
	r.runner.block = map[string]chan struct{}{"a": release, "b": release}
	at := utc("2026-11-26T09:00:00Z")
	r.clock.Set(at)
	r.sched.Tick(context.Background(), at)
	<-r.runner.seen
	<-r.runner.seen // both started while neither has finished
	close(release)
	r.sched.Wait()
}

func TestServeLoopWakesOnTheFakeClock(t *testing.T) {
	start := utc("2026-11-26T08:59:00Z")
	r := newRig(t, start)
	r.sched.Poll = time.Hour
	r.add(t, &Schedule{Name: "k", Kind: KindKeepAlive, Target: "sales", Cron: "0 9 * * *", TZ: "UTC", Missed: MissedRunOnce})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.sched.Serve(ctx) }()
	<-r.clock.sleeping // the loop sleeps until 09:00
	if n := len(r.runner.all()); n != 0 {
		t.Fatalf("ran before its time: %d", n)
	}
	r.clock.Set(utc("2026-11-26T09:00:00Z"))
	job := <-r.runner.seen
	if job.Schedule.Kind != KindKeepAlive || !job.Due.Equal(utc("2026-11-26T09:00:00Z")) {
		t.Fatalf("job %+v", job)
	}
	<-r.clock.sleeping
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestValidate(t *testing.T) {
	base := Schedule{Name: "x", Kind: KindDelivery, Target: "t", Cron: "0 9 * * *", TZ: "UTC", Missed: MissedSkip}
	cases := map[string]func(*Schedule){
		"--tz":             func(s *Schedule) { s.TZ = "Mars/Olympus" },
		"--cron":           func(s *Schedule) { s.Cron = "61 * * * *" },
		"exactly one":      func(s *Schedule) { s.At = time.Now() },
		"--missed":         func(s *Schedule) { s.Missed = "later" },
		"--notify-account": func(s *Schedule) { s.Alert.Email = "a@b.c" },
	}
	for want, f := range cases {
		s := base
		f(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v should mention %q", want, err, want)
		}
	}
	if err := base.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestParseAt(t *testing.T) {
	tokyo, _ := LoadLocation("Asia/Tokyo")
	got, err := ParseAt("2026-12-01 09:00", tokyo)
	if err != nil || !got.Equal(utc("2026-12-01T00:00:00Z")) {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := ParseAt("tomorrow", tokyo); err == nil {
		t.Fatal("accepted 'tomorrow'")
	}
}

func TestLockAccountAcrossHandles(t *testing.T) {
	home := t.TempDir()
	ctx := context.Background()
	unlock, err := LockAccount(ctx, home, "sales", nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	got := make(chan error)
	go func() {
		u, err := LockAccount(ctx, home, "sales", func() { close(waited) })
		if err == nil {
			u()
		}
		got <- err
	}()
	<-waited // the second holder waits while the first holds the lock
	other, err := LockAccount(ctx, home, "support", nil)
	if err != nil {
		t.Fatalf("another account must not wait: %v", err)
	}
	other()
	unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

func TestPreflightOfFrequentRunsIsHalfwayBetween(t *testing.T) {
	r := newRig(t, utc("2026-11-26T08:30:00Z"))
	r.add(t, &Schedule{Name: "hourly", Target: "news", Cron: "0 * * * *", TZ: "UTC", Preflight: 24 * time.Hour})
	r.tick(t, utc("2026-11-26T08:30:00Z")) // first occurrence: checked at once
	r.tick(t, utc("2026-11-26T09:00:00Z")) // the 09:00 run
	n := len(r.runner.all())
	next := r.tick(t, utc("2026-11-26T09:00:01Z"))
	if want := utc("2026-11-26T09:30:00Z"); !next.Equal(want) || len(r.runner.all()) != n {
		t.Fatalf("next wake %v (want the 10:00 run's check at %v); jobs %d → %d", next, want, n, len(r.runner.all()))
	}
	r.tick(t, utc("2026-11-26T09:30:00Z"))
	jobs := r.runner.all()
	if last := jobs[len(jobs)-1]; !last.Preflight || !last.Due.Equal(utc("2026-11-26T10:00:00Z")) {
		t.Fatalf("last job %+v, want the preflight of 10:00", last)
	}
}
