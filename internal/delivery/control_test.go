package delivery

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// prepared stores a 5-recipient delivery and sets its recipients' states
// (row 2 is the first) and the delivery's status and control, as a run
// that died would have left them.
func prepared(t *testing.T, db *store.DB, status, control string, states ...string) int64 {
	t.Helper()
	pf, err := Prepare(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(5))))
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range states {
		if _, err := db.Exec(`UPDATE delivery_recipients SET state = ? WHERE delivery_id = ? AND row = ?`, st, pf.DeliveryID, i+2); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`UPDATE deliveries SET status = ?, control = ? WHERE id = ?`, status, control, pf.DeliveryID); err != nil {
		t.Fatal(err)
	}
	return pf.DeliveryID
}

func statesOf(t *testing.T, db *store.DB, id int64) []string {
	t.Helper()
	var out []string
	if err := Report(context.Background(), db.DB, id, func(o Outcomes) error {
		out = append(out, o.State)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// 'deliveries cancel' reached a run that was killed before it polled the
// request: resume must honour the cancel, not send the rest.
func TestRecoverHonoursACancelTheDeadRunNeverSaw(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	ctx := context.Background()
	id := prepared(t, db, StatusRunning, "cancel", stateSent, stateSending, statePending, stateDeferred, statePending)
	rec, err := Recover(ctx, db.DB, id, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Unknown) != 1 {
		t.Errorf("%d unknown, want the 1 left sending", len(rec.Unknown))
	}
	want := []string{stateSent, stateUnknown, stateCancelled, stateCancelled, stateCancelled}
	if got := statesOf(t, db, id); !equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	if d, _ := Get(ctx, db.DB, id); d.Status != StatusCancelled {
		t.Errorf("status %s, want cancelled", d.Status)
	}
	if _, err := (&Engine{DB: db.DB, Dial: dialer(srv), Opts: fastOpts()}).Run(ctx, id); err == nil || srv.Count() != 0 {
		t.Errorf("a cancelled delivery ran: %v, server got %d", err, srv.Count())
	}
	if _, err := Recover(ctx, db.DB, id, true); err == nil {
		t.Error("--resend-unknown reopened a cancelled delivery")
	}
	if got := statesOf(t, db, id); !equal(got, want) {
		t.Errorf("after a refused --resend-unknown: states %v, want %v", got, want)
	}
}

// Cancelling keeps unknown recipients unknown: the server may have their
// message, and 'cancelled' would tell the user it was never sent.
func TestCancelKeepsUnknownRecipientsUnknown(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	id := prepared(t, db, StatusPaused, "", stateSent, stateUnknown, statePending, stateDeferred, stateFailed)
	if _, err := RequestCancel(ctx, db.DB, id); err != nil {
		t.Fatal(err)
	}
	want := []string{stateSent, stateUnknown, stateCancelled, stateCancelled, stateFailed}
	if got := statesOf(t, db, id); !equal(got, want) {
		t.Errorf("states %v, want %v", got, want)
	}
	wantStoredCause(t, db.DB, id, CauseCancelled)
}

// A delivery no process runs, paused by hand, is stored with that cause.
func TestPauseByHandStoresItsCause(t *testing.T) {
	db := openDB(t)
	id := prepared(t, db, StatusReady, "", statePending, statePending)
	if running, err := RequestPause(context.Background(), db.DB, id); err != nil || running {
		t.Fatalf("pause: running %v, %v", running, err)
	}
	wantStoredCause(t, db.DB, id, CauseByHand)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// refusingMailer signs in but refuses every message with err, as a server
// answers MAIL with 530 5.7.57 to an account set to auth none.
type refusingMailer struct {
	err   error
	sends *atomic.Int64
}

func (m refusingMailer) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	m.sends.Add(1)
	return "", m.err
}
func (refusingMailer) Close() error { return nil }

// A sign-in refused at MAIL, not at connection time, puts the message back
// once for a session with a refreshed token, then pauses the run (for a
// sign-in, or at once for a setting): before, the row went back and forth
// for ever. Nothing is counted as sent or failed.
func TestRefusalAtMailPausesInsteadOfLooping(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		sends  int64
		signIn bool
		reason string
		cause  string
	}{
		{"token", authErr{}, 2, true, "refreshed token", CauseSignIn},
		{"setting", settingsErr{}, 1, false, "as set up", CauseSetup},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			var sends atomic.Int64
			var refreshes []bool
			dial := func(ctx context.Context, refresh bool) (Mailer, error) {
				refreshes = append(refreshes, refresh)
				return refusingMailer{tc.err, &sends}, nil
			}
			opts := fastOpts()
			opts.Limits.Connections = 1
			// A safety net only: without the fix the run never ends.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, out, err := Deliver(ctx, db.DB, plan(writeList(t, "l.csv", listOf(3))), dial, opts)
			if err != nil {
				t.Fatal(err)
			}
			wantStoredCause(t, db.DB, out.ID, tc.cause)
			if out.Status != StatusPaused || out.SignIn != tc.signIn || !strings.Contains(out.Reason, tc.reason) ||
				out.Counts.Pending != 3 || out.Counts.Sent+out.Counts.Failed+out.Counts.Unknown != 0 {
				t.Fatalf("outcome %+v", out)
			}
			if sends.Load() != tc.sends {
				t.Errorf("%d messages offered, want %d (dials with refresh: %v)", sends.Load(), tc.sends, refreshes)
			}
		})
	}
}

// hookClock is the real time, calling once the first time it is read:
// Run reads it first after load, just before it marks the delivery
// running.
type hookClock struct {
	once sync.Once
	fn   func()
}

func (c *hookClock) Now() time.Time {
	c.once.Do(c.fn)
	return time.Now()
}

// A pause or cancel asked for a delivery that is not running changes it at
// once, without its run lock: one that lands while a resume is starting
// (loaded, not yet marked running) holds, and nothing is sent.
func TestPauseOrCancelAsARunStartsHolds(t *testing.T) {
	for _, what := range []string{"pause", "cancel"} {
		t.Run(what, func(t *testing.T) {
			db := openDB(t)
			srv := startServer(t, nil)
			ctx := context.Background()
			id := prepared(t, db, StatusPaused, "", stateSent)
			if _, err := db.Exec(`UPDATE deliveries SET cause = ?, resume_after = 1 WHERE id = ?`, CauseDailyLimit, id); err != nil {
				t.Fatal(err)
			}
			o := fastOpts()
			o.Clock = &hookClock{fn: func() {
				if _, err := askToStop(ctx, db.DB, what, id); err != nil {
					t.Error(err)
				}
			}}
			out, err := (&Engine{DB: db.DB, Dial: dialer(srv), Opts: o}).Run(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want, cause := stoppedAs(what)
			s, err := Get(ctx, db.DB, id)
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != want || s.Status != want || s.Cause != cause || len(srv.Messages()) != 0 {
				t.Fatalf("outcome %s, stored %s (%s), %d sent; want %s (%s), none sent", out.Status, s.Status, s.Cause, len(srv.Messages()), want, cause)
			}
		})
	}
}

// A pause or cancel asked of a running delivery whose run ends (paused by
// the daily limit) just after it was read as running is not left as a flag
// that no run reads and the next run clears: it is made on the delivery as
// it is now, and holds.
func TestPauseOrCancelAsARunEndsHolds(t *testing.T) {
	for _, what := range []string{"pause", "cancel"} {
		t.Run(what, func(t *testing.T) {
			db := openDB(t)
			ctx := context.Background()
			id := prepared(t, db, StatusRunning, "", stateSent)
			if _, err := db.Exec(`UPDATE deliveries SET heartbeat = ? WHERE id = ?`, time.Now().UnixMilli(), id); err != nil {
				t.Fatal(err)
			}
			requestRead = func(s *Summary) {
				if s.Status == StatusRunning { // its run ends now
					if _, err := db.Exec(`UPDATE deliveries SET status = 'paused', cause = ?, resume_after = 1 WHERE id = ?`, CauseDailyLimit, id); err != nil {
						t.Error(err)
					}
				}
			}
			defer func() { requestRead = nil }()
			if _, err := askToStop(ctx, db.DB, what, id); err != nil {
				t.Fatal(err)
			}
			s, err := Get(ctx, db.DB, id)
			if err != nil {
				t.Fatal(err)
			}
			want, cause := stoppedAs(what)
			if s.Status != want || s.Cause != cause {
				t.Fatalf("%s (%s), want %s (%s)", s.Status, s.Cause, want, cause)
			}
		})
	}
}

// A pause or cancel asked after the run last looked at the flag, its end
// already coming (here the daily limit), is honoured as it ends: the flag
// was cleared with the end, and the delivery, paused by the daily limit,
// was resumed by the scheduler a day later.
func TestPauseOrCancelAfterTheLastLookHolds(t *testing.T) {
	for _, what := range []string{"pause", "cancel"} {
		t.Run(what, func(t *testing.T) {
			db := openDB(t)
			srv := startServer(t, nil)
			ctx := context.Background()
			pf, err := Prepare(ctx, db.DB, plan(writeList(t, "l.csv", listOf(5))))
			if err != nil {
				t.Fatal(err)
			}
			id := pf.DeliveryID
			o := fastOpts()
			o.Limits = provider.Limits{Connections: 1, PerDay: 2}
			o.PollInterval = time.Hour // the flag is looked at only as rows are claimed
			dial := func(ctx context.Context, refresh bool) (Mailer, error) {
				m, err := dialer(srv)(ctx, refresh)
				if err != nil {
					return nil, err
				}
				// Asked as the first message goes: the day's 2 rows are
				// claimed by then, and no other claim comes.
				return &flagOnSend{Mailer: m, set: func() {
					if _, err := db.Exec(`UPDATE deliveries SET control = ? WHERE id = ?`, what, id); err != nil {
						t.Error(err)
					}
				}}, nil
			}
			out, err := (&Engine{DB: db.DB, Dial: dial, Opts: o}).Run(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Get(ctx, db.DB, id)
			if err != nil {
				t.Fatal(err)
			}
			want, cause := stoppedAs(what)
			if out.Status != want || out.Cause != cause || s.Status != want || s.Cause != cause || !s.ResumeAfter.IsZero() {
				t.Fatalf("outcome %s (%s), stored %s (%s, resume after %v); want %s (%s)", out.Status, out.Cause, s.Status, s.Cause, s.ResumeAfter, want, cause)
			}
			if s.Counts.Sent != 2 || s.Counts != out.Counts {
				t.Fatalf("stored counts %+v, outcome's %+v; want 2 sent, the same", s.Counts, out.Counts)
			}
		})
	}
}

// flagOnSend is a plain Mailer (one message at a time) calling set as it
// sends its first message.
type flagOnSend struct {
	Mailer
	once sync.Once
	set  func()
}

func (m *flagOnSend) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	m.once.Do(m.set)
	return m.Mailer.Send(ctx, from, to, msg)
}

// With OnlyCause, Run starts only a delivery paused for that cause: one
// paused by hand, before load or between load and its start, is left as
// it is, with ErrNotPausedFor.
func TestOnlyCauseLeavesAnotherPauseAlone(t *testing.T) {
	for _, when := range []string{"before", "as it starts"} {
		t.Run(when, func(t *testing.T) {
			db := openDB(t)
			srv := startServer(t, nil)
			ctx := context.Background()
			id := prepared(t, db, StatusPaused, "", stateSent)
			if _, err := db.Exec(`UPDATE deliveries SET cause = ?, resume_after = 1 WHERE id = ?`, CauseDailyLimit, id); err != nil {
				t.Fatal(err)
			}
			pause := func() {
				if _, err := RequestPause(ctx, db.DB, id); err != nil {
					t.Error(err)
				}
			}
			o := fastOpts()
			o.OnlyCause = CauseDailyLimit
			if when == "before" {
				pause()
			} else {
				o.Clock = &hookClock{fn: pause}
			}
			_, err := (&Engine{DB: db.DB, Dial: dialer(srv), Opts: o}).Run(ctx, id)
			if !errors.Is(err, ErrNotPausedFor) {
				t.Fatalf("got %v, want ErrNotPausedFor", err)
			}
			s, err := Get(ctx, db.DB, id)
			if err != nil {
				t.Fatal(err)
			}
			if s.Status != StatusPaused || s.Cause != CauseByHand || len(srv.Messages()) != 0 {
				t.Fatalf("%s (%s), %d sent; want paused by hand, none sent", s.Status, s.Cause, len(srv.Messages()))
			}
		})
	}
}

// A pause asked of a running delivery after a cancel it has not yet seen
// leaves the cancel asked: the run cancels, rather than pause with its
// rows left for the next resume.
func TestPauseAfterACancelNotYetSeenKeepsTheCancel(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	id := prepared(t, db, StatusRunning, "", stateSent)
	if _, err := db.Exec(`UPDATE deliveries SET heartbeat = ? WHERE id = ?`, time.Now().UnixMilli(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := RequestCancel(ctx, db.DB, id); err != nil {
		t.Fatal(err)
	}
	if _, err := RequestPause(ctx, db.DB, id); err != nil {
		t.Fatal(err)
	}
	var ctl string
	if err := db.QueryRow(`SELECT control FROM deliveries WHERE id = ?`, id).Scan(&ctl); err != nil {
		t.Fatal(err)
	}
	if ctl != "cancel" {
		t.Fatalf("control %q after cancel then pause, want cancel", ctl)
	}
}

// askToStop asks delivery id to pause or to cancel (what).
func askToStop(ctx context.Context, db *sql.DB, what string, id int64) (bool, error) {
	if what == "pause" {
		return RequestPause(ctx, db, id)
	}
	return RequestCancel(ctx, db, id)
}

// stoppedAs is the status and cause a pause or a cancel (what) asked by a
// person leaves.
func stoppedAs(what string) (status, cause string) {
	if what == "cancel" {
		return StatusCancelled, CauseCancelled
	}
	return StatusPaused, CauseByHand
}

// A person's pause of a delivery the scheduler may still resume — paused
// for it, or its resume's run paused for a server it could not reach,
// which RetryResume would make due again — makes it paused by hand, and
// RetryResume (or StopResuming) coming after leaves it so. A pause for a
// cause the scheduler never resumes is left as it is (*AlreadyError).
func TestPauseEndsTheSchedulersResumes(t *testing.T) {
	ctx := context.Background()
	for _, cause := range []string{CauseConnect, CauseDailyLimit, CauseSchedulerStopped} {
		t.Run(cause, func(t *testing.T) {
			db := openDB(t)
			id := prepared(t, db, StatusPaused, "", stateSent)
			if _, err := db.Exec(`UPDATE deliveries SET cause = ?, reason = 'r', resume_after = 1, resume_failing_since = 1 WHERE id = ?`, cause, id); err != nil {
				t.Fatal(err)
			}
			if _, err := RequestPause(ctx, db.DB, id); err != nil {
				t.Fatalf("pause of a delivery paused for %s: %v, want it paused by hand", cause, err)
			}
			now := time.Now()
			if err := RetryResume(ctx, db.DB, id, CauseDailyLimit, "limit", now, now.Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			if changed, err := StopResuming(ctx, db.DB, id, CauseConnect, "gave up"); err != nil || changed {
				t.Fatalf("StopResuming after the pause: changed %v, %v", changed, err)
			}
			s, _ := Get(ctx, db.DB, id)
			if s.Status != StatusPaused || s.Cause != CauseByHand || !s.ResumeAfter.IsZero() {
				t.Fatalf("%s (%s: %s, after %s); want paused by hand", s.Status, s.Cause, s.Reason, s.ResumeAfter)
			}
			if ids, _ := DueForResume(ctx, db.DB, now.Add(time.Hour)); len(ids) != 0 {
				t.Fatalf("due for the scheduler: %v", ids)
			}
		})
	}
	for _, cause := range []string{CauseSignIn, CauseByHand, CauseSetup, CauseStopped, CauseOther} {
		t.Run(cause, func(t *testing.T) {
			db := openDB(t)
			id := prepared(t, db, StatusPaused, "", stateSent)
			if _, err := db.Exec(`UPDATE deliveries SET cause = ?, reason = 'r' WHERE id = ?`, cause, id); err != nil {
				t.Fatal(err)
			}
			var already *AlreadyError
			if _, err := RequestPause(ctx, db.DB, id); !errors.As(err, &already) {
				t.Fatalf("pause of a delivery paused for %s: %v, want already paused", cause, err)
			}
			if s, _ := Get(ctx, db.DB, id); s.Cause != cause || s.Reason != "r" {
				t.Fatalf("pause again changed it: %s: %s", s.Cause, s.Reason)
			}
		})
	}
}
