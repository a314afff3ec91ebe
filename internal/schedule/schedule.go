// Package schedule keeps timed jobs — scheduled deliveries and keep-alives —
// and decides when each is due: cron expressions or one-off times in any
// time zone, runs missed while the scheduler was down (run once, or skip),
// preflight checks ahead of each delivery, and one delivery per account at a
// time. The clock is injected so the logic is tested without sleeping.
package schedule

import (
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Windows has no zoneinfo database: carry our own so --tz Asia/Tokyo works everywhere
	"unicode"

	"github.com/robfig/cron/v3"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/names"
)

// Kind is what a schedule runs.
type Kind string

const (
	KindDelivery  Kind = "delivery"  // Target is a saved delivery
	KindKeepAlive Kind = "keepalive" // Target is an account
	// KindResume is no schedule's: the scheduler resumes a delivery
	// paused by a daily limit once the limit has reset, as a job of
	// this kind; Target is the delivery's ID.
	KindResume Kind = "resume"
)

// Missed says what to do, at start-up, with runs that fell due while the
// scheduler was not running.
type Missed string

const (
	MissedRunOnce Missed = "run-once" // run once now, however many were missed
	MissedSkip    Missed = "skip"     // wait for the next run (and raise a run_missed alert)
)

// DefaultPreflight is how long before a scheduled delivery its preflight
// runs: a day leaves time to sign in again.
const DefaultPreflight = 24 * time.Hour

// DefaultKeepAliveCron runs keep-alives daily.
const DefaultKeepAliveCron = "@daily"

// Schedule is one timed job.
type Schedule struct {
	Name      string        `json:"name"`
	Kind      Kind          `json:"kind"`
	Target    string        `json:"target"`
	Cron      string        `json:"cron,omitempty"`
	At        time.Time     `json:"at,omitempty"` // one-off time (when Cron is empty)
	TZ        string        `json:"tz"`
	Missed    Missed        `json:"missed"`
	Preflight time.Duration `json:"preflight"` // 0: none
	SendTest  bool          `json:"send_test,omitempty"`
	Alert     alert.Config  `json:"alert"`
	Paused    bool          `json:"paused"`

	// State kept by the scheduler.
	LastDue      time.Time `json:"last_due,omitempty"`      // the last occurrence handled (run or skipped)
	PreflightFor time.Time `json:"preflight_for,omitempty"` // the occurrence the last preflight checked
	LastRunAt    time.Time `json:"last_run_at,omitempty"`
	LastExit     int       `json:"last_exit"`
	LastMessage  string    `json:"last_message,omitempty"`
	// LastInterrupted: the last run stopped with the scheduler before its
	// delivery was stored, so it sent nothing (its exit code says no more).
	LastInterrupted bool `json:"last_interrupted,omitempty"`
	// LastCause: the last run's delivery paused for a cause the scheduler
	// resumes by itself, as the job said (Result.Cause): the delivery's
	// cause code, "scheduler_stopped" (the scheduler stopped as it sent)
	// or "daily_limit"; "" for any other end.
	LastCause string `json:"last_cause,omitempty"`
	// LastDelivery: the ID of that delivery (with LastCause; 0 otherwise,
	// and for runs recorded before it was kept), for the faces to say
	// what became of it since — the scheduler's resume or a person may
	// have finished, cancelled or paused it.
	LastDelivery int64 `json:"last_delivery,omitempty"`
	// Interrupted is the occurrence of such a run, still to be run by the
	// next scheduler (zero when none): see Scheduler.tickOne.
	Interrupted time.Time `json:"interrupted,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
}

// parser reads the five-field expressions people already write in
// crontabs, plus @daily-style descriptors. robfig/cron is the parser most Go
// schedulers use; its Next is zone-aware and handles daylight-saving gaps.
// Only the parser is used: its runner keeps no state across restarts, so it
// cannot tell a missed run, which this package must.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Location returns the schedule's time zone.
func (s *Schedule) Location() (*time.Location, error) { return LoadLocation(s.TZ) }

// LoadLocation loads an IANA zone name ("Asia/Tokyo", "UTC"; "" or "Local"
// for the machine's zone), naming the flag when the name is unknown.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "local") {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, inputErr("tz", "--tz %q is not a time zone name (use an IANA name such as Asia/Tokyo, Europe/London or UTC): %w", name, err)
	}
	return loc, nil
}

// ParseCron parses a five-field cron expression or a descriptor (@daily,
// @hourly, @every 6h…) evaluated in loc.
func ParseCron(expr string, loc *time.Location) (cron.Schedule, error) {
	if strings.Contains(expr, "TZ=") {
		return nil, inputErr("cron", "--cron %q: give the time zone with --tz, not inside the expression", expr)
	}
	sch, err := parser.Parse(expr)
	if err != nil {
		return nil, inputErr("cron", "--cron %q: %w (five fields: minute hour day-of-month month day-of-week, e.g. \"0 9 * * 1-5\"; or @daily, @hourly)", expr, err)
	}
	if spec, ok := sch.(*cron.SpecSchedule); ok {
		spec.Location = loc
	}
	return sch, nil
}

// MaxNameLen bounds a schedule name, in characters: room for a
// keep-alive's "keepalive-" + account name + "-test".
const MaxNameLen = 100

// CheckName checks the name of a new schedule: 1 to MaxNameLen letters (of
// any script: 朝の配信), digits, '-' or '_', starting with a letter or digit.
// A name goes into the database, log lines, alert mails, the console's
// addresses and the 'schedule run NAME' that serve starts for each run —
// never into a file name, a cron line or a task or unit name (schedule
// install names only the account) — so letters of any language are safe;
// a leading '-' would read as a flag, and marks, spaces and control
// characters are refused so a name reads the same in each of them. Names
// saved before this rule stay usable: only a new schedule is checked.
func CheckName(name string) error {
	if !names.Plain(name, MaxNameLen) {
		return fmt.Errorf("schedule name %q: use 1-%d letters (Japanese too), digits, '-' or '_', starting with a letter or digit (no spaces or other marks)",
			name, MaxNameLen)
	}
	return nil
}

// NameFrom makes a schedule name from text that may hold characters a
// name may not (an account's '.', '@' and '+'): each becomes '-'.
func NameFrom(text string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, text)
}

// Validate checks a schedule's settings (not its name, which CheckName
// checks once, when the schedule is made: an older schedule whose name the
// rule now refuses can still be changed, paused and removed).
func (s *Schedule) Validate() error {
	if strings.TrimSpace(s.Name) == "" {
		return inputErr("name", "schedule name %q: give a name", s.Name)
	}
	switch s.Kind {
	case KindDelivery, KindKeepAlive:
	default:
		return fmt.Errorf("schedule %s: unknown kind %q", s.Name, s.Kind)
	}
	if s.Target == "" {
		return inputErr("run", "schedule %s: nothing to run (--run SAVED_DELIVERY)", s.Name)
	}
	loc, err := s.Location()
	if err != nil {
		return err
	}
	if (s.Cron == "") == s.At.IsZero() {
		return inputErr("cron", "give exactly one of --cron EXPR and --at TIME")
	}
	if s.Cron != "" {
		if _, err := ParseCron(s.Cron, loc); err != nil {
			return err
		}
	}
	switch s.Missed {
	case MissedRunOnce, MissedSkip:
	default:
		return inputErr("missed", "--missed %q: use run-once or skip", s.Missed)
	}
	if s.Preflight < 0 {
		return inputErr("preflight", "--preflight %v: must not be negative (0 turns it off)", s.Preflight)
	}
	if err := s.Alert.Validate(); err != nil {
		// A bad address, or one without its account: a form shows
		// either at the address.
		return &InputError{Flag: "notify-email", Err: err}
	}
	return nil
}

// Next returns the first occurrence strictly after t, or the zero time when
// there is none (a one-off time already past).
func (s *Schedule) Next(t time.Time) (time.Time, error) {
	if s.Cron == "" {
		if s.At.After(t) {
			return s.At, nil
		}
		return time.Time{}, nil
	}
	loc, err := s.Location()
	if err != nil {
		return time.Time{}, err
	}
	sch, err := ParseCron(s.Cron, loc)
	if err != nil {
		return time.Time{}, err
	}
	return sch.Next(t.In(loc)).UTC(), nil
}

// base is the instant after which occurrences are still to be handled.
func (s *Schedule) base() time.Time {
	if !s.LastDue.IsZero() {
		return s.LastDue
	}
	return s.CreatedAt
}

// ParseAt reads a one-off time: RFC 3339 ("2026-12-01T09:00:00+09:00"), or
// "2026-12-01 09:00" / "2026-12-01T09:00" in loc.
func ParseAt(v string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, inputErr("at", "--at %q: use \"2026-12-01 09:00\" (in --tz) or RFC 3339 \"2026-12-01T09:00:00+09:00\"", v)
}
