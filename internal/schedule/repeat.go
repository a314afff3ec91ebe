package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Repeat is a repeat as a person picks it in a form — every day, every
// weekday, a day of the week or a day of the month, at a clock time —
// rather than as a cron line. The console writes schedules with it and
// reads them back (to say them in words and to prefill the edit form), so
// a person never has to read a cron line they did not write.
type Repeat struct {
	Every   string // "daily", "weekdays", "weekly" or "monthly"
	Hour    int    // 0–23, in the schedule's zone
	Minute  int    // 0–59
	Weekday int    // weekly: 0 Sunday … 6 Saturday
	Day     int    // monthly: 1–28 (every month has it)
}

// The repeats a form offers.
const (
	EveryDay      = "daily"
	EveryWeekday  = "weekdays"
	EveryWeek     = "weekly"
	EveryMonth    = "monthly"
	MaxMonthlyDay = 28
)

// Repeat errors name the form field at fault (time, weekday, day, every).
var (
	ErrRepeatTime    = errors.New("time: use HH:MM, 00:00 to 23:59")
	ErrRepeatWeekday = errors.New("weekday: 0 (Sunday) to 6 (Saturday)")
	ErrRepeatDay     = fmt.Errorf("day: 1 to %d (every month has it)", MaxMonthlyDay)
	ErrRepeatEvery   = errors.New("every: daily, weekdays, weekly or monthly")
)

// ParseClock reads "HH:MM" (the value of an <input type=time>).
func ParseClock(hhmm string) (hour, minute int, err error) {
	h, m, ok := strings.Cut(strings.TrimSpace(hhmm), ":")
	if !ok {
		return 0, 0, ErrRepeatTime
	}
	// <input type=time> may send seconds: "09:00:00".
	m, _, _ = strings.Cut(m, ":")
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hour < 0 || hour > 23 || minute < 0 || minute > 59 || len(m) != 2 {
		return 0, 0, ErrRepeatTime
	}
	return hour, minute, nil
}

// Clock is the repeat's time as "HH:MM".
func (r Repeat) Clock() string { return fmt.Sprintf("%02d:%02d", r.Hour, r.Minute) }

// Check says what is wrong with r, naming its field.
func (r Repeat) Check() error {
	if r.Hour < 0 || r.Hour > 23 || r.Minute < 0 || r.Minute > 59 {
		return ErrRepeatTime
	}
	switch r.Every {
	case EveryDay, EveryWeekday:
	case EveryWeek:
		if r.Weekday < 0 || r.Weekday > 6 {
			return ErrRepeatWeekday
		}
	case EveryMonth:
		if r.Day < 1 || r.Day > MaxMonthlyDay {
			return ErrRepeatDay
		}
	default:
		return ErrRepeatEvery
	}
	return nil
}

// Cron is r's cron line ("30 7 * * *").
func (r Repeat) Cron() (string, error) {
	if err := r.Check(); err != nil {
		return "", err
	}
	switch r.Every {
	case EveryWeekday:
		return fmt.Sprintf("%d %d * * 1-5", r.Minute, r.Hour), nil
	case EveryWeek:
		return fmt.Sprintf("%d %d * * %d", r.Minute, r.Hour, r.Weekday), nil
	case EveryMonth:
		return fmt.Sprintf("%d %d %d * *", r.Minute, r.Hour, r.Day), nil
	default:
		return fmt.Sprintf("%d %d * * *", r.Minute, r.Hour), nil
	}
}

// RepeatOf reads back a cron line that one of the simple repeats would
// have written (and @daily / @midnight); ok is false for any other line,
// which is then shown as it is.
func RepeatOf(cron string) (r Repeat, ok bool) {
	switch strings.TrimSpace(cron) {
	case "@daily", "@midnight":
		return Repeat{Every: EveryDay}, true
	}
	f := strings.Fields(cron)
	if len(f) != 5 || f[3] != "*" {
		return Repeat{}, false
	}
	num := func(s string, lo, hi int) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= lo && n <= hi && strconv.Itoa(n) == s
	}
	m, ok1 := num(f[0], 0, 59)
	h, ok2 := num(f[1], 0, 23)
	if !ok1 || !ok2 {
		return Repeat{}, false
	}
	r = Repeat{Hour: h, Minute: m}
	switch {
	case f[2] == "*" && f[4] == "*":
		r.Every = EveryDay
	case f[2] == "*" && f[4] == "1-5":
		r.Every = EveryWeekday
	case f[2] == "*":
		wd, ok := num(f[4], 0, 7)
		if !ok {
			return Repeat{}, false
		}
		r.Every, r.Weekday = EveryWeek, wd%7
	case f[4] == "*":
		d, ok := num(f[2], 1, MaxMonthlyDay)
		if !ok {
			return Repeat{}, false
		}
		r.Every, r.Day = EveryMonth, d
	default:
		return Repeat{}, false
	}
	return r, true
}
