package core

import (
	"context"
	"errors"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
)

// Presses of "run the schedules here" at once start one scheduler, which
// holds the home's serve lock against any other, says since when it runs,
// and stops and is waited for on StopServe; it can be started again.
func TestStartServeStartsOneScheduler(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	if st := svc.ServeStatus(); st.Running || !st.Since.IsZero() || st.Ended != nil {
		t.Fatalf("before any start: %+v", st)
	}

	var wg sync.WaitGroup
	got := make([]ServeStart, 8)
	errs := make([]error, len(got))
	press := make(chan struct{})
	for i := range got {
		wg.Go(func() {
			<-press
			got[i], errs[i] = svc.StartServe(ctx, ServeOptions{})
		})
	}
	close(press)
	wg.Wait()
	started := 0
	for i, g := range got {
		if errs[i] != nil {
			t.Fatalf("start %d: %v", i, errs[i])
		}
		switch g {
		case ServeStarted:
			started++
		case ServeAlreadyHere:
		default:
			t.Fatalf("start %d: %v, want started or already here", i, g)
		}
	}
	if started != 1 {
		t.Fatalf("%d schedulers started, want 1", started)
	}
	st := svc.ServeStatus()
	if !st.Running || st.Since.IsZero() || st.Ended != nil {
		t.Fatalf("running: %+v", st)
	}
	if on, err := svc.ServeRunning(); !on || err != nil {
		t.Fatalf("the serve lock is not held: %v %v", on, err)
	}
	if again, err := svc.StartServe(ctx, ServeOptions{}); again != ServeAlreadyHere || err != nil {
		t.Fatalf("a start while it runs: %v %v", again, err)
	}

	// Another process on the home: its serve is refused, and it cannot
	// start one in the background either.
	other := newService(t, Options{Home: svc.Home()})
	var busy *BusyError
	if err := other.Serve(ctx, ServeOptions{}); !errors.As(err, &busy) || busy.Kind != KindServe {
		t.Fatalf("a second serve on the home: %v", err)
	}
	if s, err := other.StartServe(ctx, ServeOptions{}); s != ServeBusy || err != nil {
		t.Fatalf("a start in another process: %v %v", s, err)
	}
	if other.ServeStatus().Running {
		t.Fatal("the other process says it runs the schedules")
	}

	svc.StopServe()
	if on, _ := other.ServeRunning(); on {
		t.Fatal("the serve lock is still held after StopServe returned")
	}
	if st := svc.ServeStatus(); st.Running || st.Ended != nil {
		t.Fatalf("stopped by hand: %+v", st)
	}
	svc.StopServe() // a second stop is harmless

	if s, err := svc.StartServe(ctx, ServeOptions{}); s != ServeStarted || err != nil {
		t.Fatalf("a start after the stop: %v %v", s, err)
	}
	if !svc.ServeStatus().Running {
		t.Fatal("not running after the second start")
	}
}

// A scheduler that ends as it starts is said: a bad alert setting is the
// error, and the status keeps it; one that loses the lock to another
// process between the look and its own try is ServeBusy.
func TestStartServeEndsAtOnce(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	s, err := svc.StartServe(ctx, ServeOptions{Alert: alert.Config{Email: "ops@example.org", EmailAccount: "nobody"}})
	wantField(t, err, "notify_account")
	if s == ServeStarted {
		t.Fatal("said started")
	}
	st := svc.ServeStatus()
	if st.Running || st.Since.IsZero() || !errors.Is(st.Ended, err) {
		t.Fatalf("after it ended: %+v", st)
	}

	// A shared hold on the lock file: ServeRunning's probe (shared too)
	// sees no scheduler, Serve's exclusive lock is refused.
	held := flock.New(filepath.Join(svc.Home(), "locks", serveLockName))
	if err := held.RLock(); err != nil {
		t.Fatal(err)
	}
	defer held.Unlock()
	if s, err := svc.StartServe(ctx, ServeOptions{}); s != ServeBusy || err != nil {
		t.Fatalf("the lock won elsewhere in the meantime: %v %v", s, err)
	}
	var busy *BusyError
	if st := svc.ServeStatus(); st.Running || !errors.As(st.Ended, &busy) {
		t.Fatalf("after losing the lock: %+v", st)
	}
	if _, err := svc.StartServe(ctx, ServeOptions{Once: true}); err == nil {
		t.Fatal("Once accepted")
	}
}

// Close stops the scheduler and waits for it, before the database closes
// under it; a closed Service starts none.
func TestCloseStopsTheBackgroundServe(t *testing.T) {
	svc := newService(t, Options{})
	other := newService(t, Options{Home: svc.Home()})
	ctx := context.Background()
	if s, err := svc.StartServe(ctx, ServeOptions{}); s != ServeStarted || err != nil {
		t.Fatalf("start: %v %v", s, err)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	if on, _ := other.ServeRunning(); on {
		t.Fatal("the serve lock is still held after Close")
	}
	// Nothing the scheduler started reads the database after Close: the
	// token watch it starts with it is waited for too (left running, its
	// first check finished on the closed database, and SQLite's last
	// connection closed under the test's cleanup of the home).
	var stacks strings.Builder
	pprof.Lookup("goroutine").WriteTo(&stacks, 2)
	if strings.Contains(stacks.String(), ").watchTokenLifetimes(") {
		t.Errorf("the token watch still runs after Close:\n%s", stacks.String())
	}
	if _, err := svc.StartServe(ctx, ServeOptions{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("a start on a closed Service: %v", err)
	}
}

// The check and the record of a run are one step: a second run cannot
// begin while one runs (two presses between the first look and the start
// would otherwise make two schedulers, one of them told it is busy), and
// can once it ended.
func TestBgServeBeginsOneRunAtATime(t *testing.T) {
	var b bgServe
	first := make(chan struct{})
	if !b.begin(func() {}, first, time.Now()) {
		t.Fatal("the first run did not begin")
	}
	if b.begin(func() {}, make(chan struct{}), time.Now()) {
		t.Fatal("a second run began while the first ran")
	}
	if running, _, _ := b.state(); !running {
		t.Fatal("not running")
	}
	failed := errors.New("ended by itself")
	b.end(first, failed)
	if running, _, ended := b.state(); running || ended != failed {
		t.Fatalf("after the end: running %v, ended %v", running, ended)
	}
	if !b.begin(func() {}, make(chan struct{}), time.Now()) {
		t.Fatal("no new run after the first ended")
	}
	if _, _, ended := b.state(); ended != nil {
		t.Fatalf("a new run keeps the last one's end: %v", ended)
	}
}
