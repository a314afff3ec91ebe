package core

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/csvsafe"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

// StatusInterrupted is the status DeliveryProgress gives a delivery left
// 'running' by a process that died: resume it.
const StatusInterrupted = "interrupted"

// deliveryNotFound makes the engine's "no delivery N" a *NotFoundError.
func deliveryNotFound(id int64, err error) error {
	if errors.Is(err, delivery.ErrNotFound) {
		return &NotFoundError{Kind: KindDelivery, Name: strconv.FormatInt(id, 10), Err: err}
	}
	return err
}

// Deliveries lists deliveries, newest first, with their counts.
func (s *Service) Deliveries(ctx context.Context) ([]*delivery.Summary, error) {
	ds, err := delivery.List(ctx, s.db.DB)
	if err == nil && ds == nil {
		ds = []*delivery.Summary{} // JSON [] for none, not null
	}
	return ds, err
}

// Delivery returns one delivery with its counts.
func (s *Service) Delivery(ctx context.Context, id int64) (*delivery.Summary, error) {
	d, err := delivery.Get(ctx, s.db.DB, id)
	return d, deliveryNotFound(id, err)
}

// SchedulerResume is how the scheduler goes on with a paused delivery by
// itself (SchedulerResumeOf).
//
// Its JSON is what `deliveries show --json` gives as "scheduler", times in
// UTC as the delivery's own.
type SchedulerResume struct {
	// Cause is what it waits on: CauseDailyLimit or CauseSchedulerStopped.
	Cause string `json:"cause"`
	// At is when it is due: the daily limit's window reopening, or (one
	// stopped with the scheduler) the moment it stopped, due at once —
	// or, Retrying, the next try.
	At time.Time `json:"at"`
	// Retrying: the scheduler's resume of it failed for a reason that
	// may pass (the network, the server), since FailingSince; it tries
	// again at At, and gives up at GiveUpAt (an hour of failures), then
	// alerts and leaves it to a person. Nobody need act before.
	Retrying     bool      `json:"retrying"`
	FailingSince time.Time `json:"failing_since,omitzero"`
	GiveUpAt     time.Time `json:"give_up_at,omitzero"`
}

// SchedulerResumeOf says how the scheduler resumes delivery id by itself,
// nil when it does not (a person resumes it). It is the scheduler's own
// due test (delivery.StillDue), asked of a time after any window, so that
// no face words a guess of its own.
func (s *Service) SchedulerResumeOf(ctx context.Context, id int64) (*SchedulerResume, error) {
	d, err := delivery.StillDue(ctx, s.db.DB, id, afterAnyWindow)
	if d == nil || err != nil {
		return nil, err
	}
	return schedulerResumeOf(d), nil
}

// SchedulerResumes is SchedulerResumeOf of every delivery at once, by ID
// (a listing): the deliveries the scheduler resumes by itself, and how.
func (s *Service) SchedulerResumes(ctx context.Context) (map[int64]*SchedulerResume, error) {
	due, err := delivery.AllStillDue(ctx, s.db.DB, afterAnyWindow)
	if err != nil {
		return nil, err
	}
	all := make(map[int64]*SchedulerResume, len(due))
	for id, d := range due {
		all[id] = schedulerResumeOf(d)
	}
	return all, nil
}

// afterAnyWindow is the time SchedulerResumeOf asks the scheduler's due
// test of: whatever time a delivery waits for, it has come.
var afterAnyWindow = time.UnixMilli(math.MaxInt64)

func schedulerResumeOf(d *delivery.Due) *SchedulerResume {
	r := &SchedulerResume{Cause: d.Cause, At: d.At.UTC()}
	if !d.FailingSince.IsZero() {
		r.Retrying, r.FailingSince, r.GiveUpAt = true, d.FailingSince.UTC(), d.FailingSince.Add(resumeGiveUp).UTC()
	}
	return r
}

// FindDelivery returns the ID of the delivery a person named by its ID or
// its name (what `send --name` gave it, or the list's file and the time).
// A number is an ID when a delivery has it. A name several deliveries
// share is refused as a *FieldError (code "ambiguous") listing their IDs;
// one no delivery has is a *NotFoundError.
func (s *Service) FindDelivery(ctx context.Context, idOrName string) (int64, error) {
	if id, err := strconv.ParseInt(idOrName, 10, 64); err == nil && id > 0 {
		if _, err := delivery.Get(ctx, s.db.DB, id); err == nil {
			return id, nil
		} else if !errors.Is(err, delivery.ErrNotFound) {
			return 0, err
		}
	}
	ids, err := delivery.IDsByName(ctx, s.db.DB, idOrName)
	if err != nil {
		return 0, err
	}
	switch len(ids) {
	case 0:
		return 0, &NotFoundError{Kind: KindDelivery, Name: idOrName,
			Err: fmt.Errorf("no delivery has the ID or name %q (see 'bluemoon deliveries list')", idOrName)}
	case 1:
		return ids[0], nil
	}
	list := make([]string, len(ids))
	for i, id := range ids {
		list[i] = strconv.FormatInt(id, 10)
	}
	return 0, fieldErr("delivery", CodeAmbiguous, "%d deliveries are named %q (IDs %s): give the ID of the one you mean",
		len(ids), idOrName, strings.Join(list, ", "))
}

// Progress is how a delivery goes, as any process reads it.
type Progress struct {
	ID      int64
	Name    string
	Account string
	// Status is ready, running, paused, done or cancelled — or
	// StatusInterrupted for one whose process died while running it.
	Status      string
	Live        bool   // a process (this one or another) is sending it now
	Cause       string // why it stopped short: a Cause… (see PauseCause)
	Reason      string
	ResumeAfter time.Time
	// Scheduler: the scheduler resumes it by itself (SchedulerResumeOf),
	// and how: after a window, when it runs next, or — its resume failing
	// for a while — at its next try; nil when a person resumes it.
	Scheduler  *SchedulerResume
	Counts     delivery.Counts
	Total      int           // recipients to send to (all but skipped and suppressed)
	Done       int           // sent + failed
	Rate       float64       // messages a second, lately
	ETA        time.Duration // at that rate, for what is left; 0 when unknown
	StartedAt  time.Time
	FinishedAt time.Time
}

// rateWindow is how far back a process that does not run a delivery looks
// to say how fast it goes.
const rateWindow = time.Minute

// DeliveryProgress reads a delivery's progress from the database, so any
// process can show it: counts, rate, ETA, and whether a live process runs
// it (a delivery whose process died does not read as running).
func (s *Service) DeliveryProgress(ctx context.Context, id int64) (*Progress, error) {
	d, err := s.Delivery(ctx, id)
	if err != nil {
		return nil, err
	}
	c := d.Counts
	p := &Progress{ID: d.ID, Name: d.Name, Account: d.Account, Status: d.Status, Reason: d.Reason, ResumeAfter: d.ResumeAfter,
		Cause:  PauseCause(d.Status, d.Cause, d.Reason),
		Counts: c, Total: c.Pending + c.Sending + c.Sent + c.Failed + c.Deferred + c.Unknown + c.Cancelled,
		Done: c.Sent + c.Failed, StartedAt: d.StartedAt, FinishedAt: d.FinishedAt}
	if d.Status == delivery.StatusPaused {
		if p.Scheduler, err = s.SchedulerResumeOf(ctx, id); err != nil {
			return nil, err
		}
	}
	if d.Status != delivery.StatusRunning {
		return p, nil
	}
	p.Live = s.runnerAlive(id)
	if !p.Live {
		p.Status, p.Cause = StatusInterrupted, CauseProcessDied
		return p, nil
	}
	s.mu.Lock()
	r := s.runs[id]
	s.mu.Unlock()
	if r != nil {
		r.mu.Lock()
		last := r.last
		r.mu.Unlock()
		if last != nil {
			p.Rate, p.ETA = last.Rate, last.ETA
			return p, nil
		}
	}
	// Run by another process: the rate it stamped with its heartbeat, else
	// the outcomes of the last minute say how fast.
	left := c.Pending + c.Deferred + c.Sending
	if d.Rate > 0 {
		p.Rate = d.Rate
		p.ETA = time.Duration(float64(left) / p.Rate * float64(time.Second))
		return p, nil
	}
	now := s.now()
	since := now.Add(-rateWindow)
	window := rateWindow
	if d.StartedAt.After(since) {
		since, window = d.StartedAt, now.Sub(d.StartedAt)
	}
	n, err := delivery.RecentlyDone(ctx, s.db.DB, id, since)
	if err != nil {
		return nil, err
	}
	if window > 0 && n > 0 {
		p.Rate = float64(n) / window.Seconds()
		p.ETA = time.Duration(float64(left) / p.Rate * float64(time.Second))
	}
	return p, nil
}

// ReportPage returns a page of a delivery's report: every recipient's
// row, address, state, attempts and server reply, filtered by outcome and
// searched by address (see delivery.ReportQuery).
func (s *Service) ReportPage(ctx context.Context, id int64, q delivery.ReportQuery) (*delivery.ReportPage, error) {
	p, err := delivery.QueryReport(ctx, s.db.DB, id, q)
	return p, deliveryNotFound(id, err)
}

// Report calls fn for every recipient of a delivery, in list order,
// streaming (a million-row report is not held in memory).
func (s *Service) Report(ctx context.Context, id int64, fn func(delivery.Outcomes) error) error {
	if _, err := s.Delivery(ctx, id); err != nil {
		return err
	}
	return delivery.Report(ctx, s.db.DB, id, fn)
}

// ReportCSV writes a delivery's report as CSV (every recipient, streamed),
// the export both faces offer. The values come from other people (a
// list's addresses, a server's replies), so a cell a spreadsheet would run
// as a formula is made text (csvsafe); JSON exports use Report and stay
// exact. Times are RFC 3339 in the local zone.
func (s *Service) ReportCSV(ctx context.Context, id int64, out io.Writer) error {
	w := csvsafe.NewWriter(out)
	if err := w.Write([]string{"row", "email", "state", "attempts", "reply", "time", "next_try", "via"}); err != nil {
		return err
	}
	err := s.Report(ctx, id, func(o delivery.Outcomes) error {
		return w.Write([]string{strconv.Itoa(o.Row), o.Email, o.State, strconv.Itoa(o.Attempts), o.Reply, rfc3339(o.At), rfc3339(o.NextTry), o.Via})
	})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	return err
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Local().Format(time.RFC3339)
}

// ControlResult says what PauseDelivery / CancelDelivery did.
type ControlResult struct {
	// Asked: a process is running the delivery; it was asked to stop and
	// does after the messages in flight. Otherwise it is done already.
	Asked bool
	// Already: the delivery was paused (PauseDelivery) or cancelled
	// (CancelDelivery) before; nothing was changed.
	Already bool
}

// PauseDelivery pauses a delivery: one that is running stops after the
// messages in flight (its process polls); another is marked paused.
func (s *Service) PauseDelivery(ctx context.Context, id int64) (*ControlResult, error) {
	return s.control(ctx, id, delivery.RequestPause)
}

// CancelDelivery cancels a delivery: recipients not yet sent are never
// sent (those whose outcome is unknown stay unknown).
func (s *Service) CancelDelivery(ctx context.Context, id int64) (*ControlResult, error) {
	return s.control(ctx, id, delivery.RequestCancel)
}

func (s *Service) control(ctx context.Context, id int64, request func(context.Context, *sql.DB, int64) (bool, error)) (*ControlResult, error) {
	running, err := request(ctx, s.db.DB, id)
	var already *delivery.AlreadyError
	if errors.As(err, &already) {
		return &ControlResult{Already: true}, nil
	}
	if err != nil {
		return nil, deliveryNotFound(id, err)
	}
	if !running {
		return &ControlResult{}, nil
	}
	// 'running' but nobody holds its run lock: the process that ran it
	// died. Recovering it now applies the request (a cancel is honoured;
	// a pause leaves it paused) instead of leaving it for a runner that
	// will never poll.
	if unlock, err := s.lockDelivery(id); err == nil {
		defer unlock()
		if _, err := delivery.Recover(ctx, s.db.DB, id, false); err != nil {
			return nil, err
		}
		return &ControlResult{}, nil
	}
	return &ControlResult{Asked: true}, nil
}
