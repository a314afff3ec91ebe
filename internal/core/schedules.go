package core

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// Schedules are kept in the data home and run by Serve: each scheduled
// delivery at its time (its preflight ahead of it), and the keep-alives.

// ScheduleInput is a schedule as a person gives it.
type ScheduleInput struct {
	Name   string
	Kind   schedule.Kind // schedule.KindDelivery or schedule.KindKeepAlive
	Target string        // saved delivery (delivery), account (keep-alive)
	// SendTest: a keep-alive also sends a test message to the account.
	SendTest bool
	Cron     string // "minute hour day month weekday" in TZ, or @daily, @every 6h…
	At       string // or one time: "2026-12-01 09:00" (in TZ) or RFC 3339
	TZ       string // IANA name; "" or "Local" is this computer's zone
	Missed   schedule.Missed
	// Preflight is how long before each run its checks run (0: none).
	Preflight time.Duration
	Alert     alert.Config
}

// ScheduleInfo is a schedule with its next run.
type ScheduleInfo struct {
	*schedule.Schedule
	Next    time.Time // in Location; zero when there is none (paused, a one-off time past)
	NextErr error     // why Next could not be worked out
	// Location is the schedule's time zone (UTC if it cannot be loaded).
	Location *time.Location
	// LastDelivery is what became of the delivery the last run left
	// paused for the scheduler to resume (LastCause), read now: the
	// resume or a person may have finished it since. nil when the run
	// left none, or was recorded before schedules kept which (LastCause
	// alone then says).
	LastDelivery *LastDelivery
}

// LastDelivery is the present state of the delivery a schedule's last run
// left paused for the scheduler to resume.
type LastDelivery struct {
	ID    int64  `json:"id"`
	State string `json:"state"` // a LastDelivery… state
	// Cause is why it is paused now (LastDeliveryResumes,
	// LastDeliveryPaused): a Cause… code, as PauseCause gives.
	Cause string `json:"cause,omitempty"`
	// Unsent: recipients of a finished delivery that failed or whose
	// outcome is unknown (its report says which).
	Unsent int `json:"unsent,omitempty"`
	// RetryAt (LastDeliveryResumes): the scheduler's resume of it failed
	// for a reason that may pass, and it tries again then (zero while
	// its resumes do not fail).
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// States of a LastDelivery.
const (
	LastDeliveryResumes   = "resumes"   // still paused; the scheduler resumes it by itself
	LastDeliverySending   = "sending"   // being sent now (the scheduler's resume, or a person's)
	LastDeliveryDone      = "done"      // finished
	LastDeliveryCancelled = "cancelled" // cancelled since
	LastDeliveryPaused    = "paused"    // paused, or its process died, for a person to resume
	LastDeliveryRemoved   = "removed"   // removed since
)

// lastDelivery reads what became of the delivery sc's last run left for
// the scheduler to resume.
func (s *Service) lastDelivery(ctx context.Context, sc *schedule.Schedule) (*LastDelivery, error) {
	if sc.LastCause == "" || sc.LastDelivery == 0 {
		return nil, nil
	}
	ld := &LastDelivery{ID: sc.LastDelivery}
	p, err := s.DeliveryProgress(ctx, sc.LastDelivery)
	switch {
	case errors.Is(err, ErrNotFound):
		ld.State = LastDeliveryRemoved
		return ld, nil
	case err != nil:
		return nil, err
	}
	switch p.Status {
	case delivery.StatusPaused:
		ld.State, ld.Cause = LastDeliveryPaused, p.Cause
		if r := p.Scheduler; r != nil {
			ld.State = LastDeliveryResumes
			if r.Retrying {
				ld.RetryAt = r.At.UTC()
			}
		}
	case StatusInterrupted:
		ld.State, ld.Cause = LastDeliveryPaused, p.Cause
	case delivery.StatusDone:
		ld.State, ld.Unsent = LastDeliveryDone, p.Counts.Failed+p.Counts.Unknown
	case delivery.StatusCancelled:
		ld.State = LastDeliveryCancelled
	default:
		ld.State = LastDeliverySending
	}
	return ld, nil
}

// withLastDeliveries fills in the LastDelivery of each schedule of list.
func (s *Service) withLastDeliveries(ctx context.Context, list []*ScheduleInfo) error {
	for _, info := range list {
		ld, err := s.lastDelivery(ctx, info.Schedule)
		if err != nil {
			return err
		}
		info.LastDelivery = ld
	}
	return nil
}

// AddSchedule checks and stores a schedule. The saved delivery (or the
// keep-alive's account) must exist.
func (s *Service) AddSchedule(ctx context.Context, in ScheduleInput) (*ScheduleInfo, error) {
	sc, err := s.scheduleOf(ctx, &in, true)
	if err != nil {
		return nil, err
	}
	sc.CreatedAt = s.now().UTC()
	if err := s.schedules().Add(ctx, sc); err != nil {
		if errors.Is(err, schedule.ErrExists) {
			return nil, fieldErr("name", CodeExists, "%w", err)
		}
		return nil, err
	}
	return s.scheduleInfo(sc), nil
}

// EditSchedule changes what schedule name runs and when (in's Name and
// Kind are ignored: a schedule keeps both, and a keep-alive its account,
// with no preflight). A new time starts counting from now, so no run of
// the old timing is made up or called missed.
func (s *Service) EditSchedule(ctx context.Context, name string, in ScheduleInput) (*ScheduleInfo, error) {
	old, err := s.schedules().Get(ctx, name)
	if err != nil {
		return nil, scheduleNotFound(name, err)
	}
	in.Name, in.Kind = old.Name, old.Kind
	if old.Kind == schedule.KindKeepAlive {
		in.Target, in.Preflight = old.Target, 0
	}
	sc, err := s.scheduleOf(ctx, &in, false)
	if err != nil {
		return nil, err
	}
	got, err := s.schedules().Edit(ctx, name, sc, s.now())
	if err != nil {
		if errors.Is(err, schedule.ErrNotFound) {
			return nil, scheduleNotFound(name, err)
		}
		return nil, flagError(err)
	}
	return s.scheduleInfo(got), nil
}

// CheckScheduleName checks the name of a new schedule (schedule.CheckName),
// as a *FieldError on "name"; a face that makes something else first under
// the same name (the console's check step saves the delivery) asks first.
func CheckScheduleName(name string) error {
	if err := schedule.CheckName(name); err != nil {
		return fieldErr("name", CodeInvalid, "%w", err)
	}
	return nil
}

// keepAliveName is the name a keep-alive of acct is given when none is:
// an account's '.', '@' and '+' are not a schedule name's.
func keepAliveName(acct string) string { return "keepalive-" + schedule.NameFrom(acct) }

// scheduleOf checks in and makes the schedule it describes (no state);
// the name of a new one (isNew) is checked first, an existing one's is
// kept as it is.
func (s *Service) scheduleOf(ctx context.Context, in *ScheduleInput, isNew bool) (*schedule.Schedule, error) {
	if isNew && in.Kind == schedule.KindKeepAlive && in.Name == "" {
		in.Name = keepAliveName(in.Target)
	}
	if isNew {
		if err := CheckScheduleName(in.Name); err != nil {
			return nil, err
		}
	}
	switch in.Kind {
	case schedule.KindDelivery:
		if in.Target == "" {
			return nil, fieldErr("run", CodeRequired, "--run SAVED_DELIVERY is required (see 'bluemoon deliveries saved')")
		}
		if _, err := s.SavedDelivery(ctx, in.Target); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, fieldErr("run", CodeNotFound, "--run: %w", errors.Unwrap(err))
			}
			return nil, err
		}
	case schedule.KindKeepAlive:
		if _, err := s.account(ctx, in.Target); err != nil {
			return nil, err
		}
	}
	tz := in.TZ
	if tz == "" {
		tz = "Local"
	}
	now := s.now().UTC()
	sc := &schedule.Schedule{Name: in.Name, Kind: in.Kind, Target: in.Target, SendTest: in.SendTest, Preflight: in.Preflight,
		Cron: in.Cron, TZ: tz, Missed: in.Missed, Alert: in.Alert}
	if in.At != "" {
		loc, err := schedule.LoadLocation(tz)
		if err != nil {
			return nil, flagError(err)
		}
		if sc.At, err = schedule.ParseAt(in.At, loc); err != nil {
			return nil, flagError(err)
		}
		if !sc.At.After(now) {
			return nil, fieldErr("at", "past", "--at %s is in the past", in.At)
		}
	}
	if err := sc.Validate(); err != nil {
		return nil, flagError(err)
	}
	if err := s.CheckAlert(ctx, sc.Alert); err != nil {
		return nil, err
	}
	return sc, nil
}

// flagError makes a setting internal/schedule refused (a
// *schedule.InputError) a *FieldError for the input it names, its message
// unchanged. Any other error (the database, a damaged schedule) is no
// input's and comes back as it is.
func flagError(err error) error {
	var ie *schedule.InputError
	if !errors.As(err, &ie) {
		return err
	}
	return &FieldError{Field: strings.ReplaceAll(ie.Flag, "-", "_"), Code: CodeInvalid, Message: err.Error(), Err: err}
}

func (s *Service) schedules() *schedule.Store { return &schedule.Store{DB: s.db.DB} }

// Schedules lists every schedule with its next run.
func (s *Service) Schedules(ctx context.Context) ([]*ScheduleInfo, error) {
	list, err := s.schedules().List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*ScheduleInfo, 0, len(list))
	for _, sc := range list {
		out = append(out, s.scheduleInfo(sc))
	}
	if err := s.withLastDeliveries(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Schedule returns one schedule with its next run.
func (s *Service) Schedule(ctx context.Context, name string) (*ScheduleInfo, error) {
	sc, err := s.schedules().Get(ctx, name)
	if err != nil {
		return nil, scheduleNotFound(name, err)
	}
	info := s.scheduleInfo(sc)
	if err := s.withLastDeliveries(ctx, []*ScheduleInfo{info}); err != nil {
		return nil, err
	}
	return info, nil
}

func scheduleNotFound(name string, err error) error {
	if errors.Is(err, schedule.ErrNotFound) {
		return &NotFoundError{Kind: KindSchedule, Name: name, Err: err}
	}
	return err
}

func (s *Service) scheduleInfo(sc *schedule.Schedule) *ScheduleInfo {
	info := &ScheduleInfo{Schedule: sc}
	loc, err := sc.Location()
	if err != nil {
		loc = time.UTC
	}
	info.Location = loc
	if sc.Paused {
		return info
	}
	base := s.now()
	if !sc.LastDue.IsZero() && sc.LastDue.After(base) {
		base = sc.LastDue
	}
	n, err := sc.Next(base)
	if err != nil {
		info.NextErr = err
		return info
	}
	if !n.IsZero() {
		info.Next = n.In(loc)
	}
	return info
}

// RemoveSchedule removes a schedule.
func (s *Service) RemoveSchedule(ctx context.Context, name string) error {
	return scheduleNotFound(name, s.schedules().Remove(ctx, name))
}

// PauseSchedule pauses (pause true) or resumes a schedule. Runs due while
// it was paused are not caught up.
func (s *Service) PauseSchedule(ctx context.Context, name string, pause bool) (*ScheduleInfo, error) {
	sc, err := s.schedules().SetPaused(ctx, name, pause, s.now().UTC())
	if err != nil {
		return nil, scheduleNotFound(name, err)
	}
	return s.scheduleInfo(sc), nil
}

// RunSchedule runs a schedule's job now, with its alerts (notify applies
// when the schedule has none of its own, the home's AlertSettings when
// notify is empty too): the saved delivery (with
// preflight, only its checks) or the keep-alive. The scheduler runs each
// job this way, scheduled (Job.Scheduled) true. The error it returns is
// the caller's to show (Job.ErrorShown).
func (s *Service) RunSchedule(ctx context.Context, name string, preflight, scheduled bool, notify alert.Config, ev SendEvents) error {
	return s.RunScheduleDue(ctx, name, preflight, scheduled, time.Time{}, notify, ev)
}

// RunScheduleDue is RunSchedule of the occurrence due, as the scheduler's
// job (scheduled): a delivery's run that the scheduler's stop ends before
// the delivery is stored records due on the schedule, for the next
// scheduler to run (an *InterruptedRunError). A zero due records nothing.
func (s *Service) RunScheduleDue(ctx context.Context, name string, preflight, scheduled bool, due time.Time, notify alert.Config, ev SendEvents) error {
	sc, err := s.schedules().Get(ctx, name)
	if err != nil {
		return scheduleNotFound(name, err)
	}
	if err := s.CheckAlert(ctx, notify); err != nil {
		return err
	}
	cfg := sc.Alert
	if cfg.IsZero() {
		cfg = s.alertOr(ctx, notify)
	}
	return s.RunJob(ctx, Job{Schedule: sc.Name, Kind: sc.Kind, Target: sc.Target, SendTest: sc.SendTest,
		Preflight: preflight && sc.Kind == schedule.KindDelivery, Alert: cfg, ErrorShown: true, Scheduled: scheduled, Due: due}, ev)
}
