package schedule

import (
	"errors"
	"testing"
	"time"
)

func TestRepeatCronAndBack(t *testing.T) {
	for _, c := range []struct {
		r    Repeat
		cron string
	}{
		{Repeat{Every: EveryDay, Hour: 9}, "0 9 * * *"},
		{Repeat{Every: EveryDay, Hour: 7, Minute: 30}, "30 7 * * *"},
		{Repeat{Every: EveryWeekday, Hour: 18, Minute: 5}, "5 18 * * 1-5"},
		{Repeat{Every: EveryWeek, Hour: 9, Weekday: 1}, "0 9 * * 1"},
		{Repeat{Every: EveryWeek, Hour: 23, Minute: 59, Weekday: 0}, "59 23 * * 0"},
		{Repeat{Every: EveryMonth, Hour: 10, Day: 28}, "0 10 28 * *"},
	} {
		got, err := c.r.Cron()
		if err != nil || got != c.cron {
			t.Errorf("%+v: %q, %v; want %q", c.r, got, err, c.cron)
		}
		back, ok := RepeatOf(got)
		if !ok || back != c.r {
			t.Errorf("RepeatOf(%q) = %+v, %v; want %+v", got, back, ok, c.r)
		}
		if _, err := ParseCron(got, time.UTC); err != nil {
			t.Errorf("%q does not parse: %v", got, err)
		}
	}
}

func TestRepeatRefusesWhatAFormCannotMean(t *testing.T) {
	for _, c := range []struct {
		r   Repeat
		err error
	}{
		{Repeat{Every: EveryDay, Hour: 24}, ErrRepeatTime},
		{Repeat{Every: EveryDay, Minute: -1}, ErrRepeatTime},
		{Repeat{Every: EveryWeek, Weekday: 7}, ErrRepeatWeekday},
		{Repeat{Every: EveryMonth, Day: 31}, ErrRepeatDay},
		{Repeat{Every: EveryMonth, Day: 0}, ErrRepeatDay},
		{Repeat{Every: "hourly"}, ErrRepeatEvery},
	} {
		if _, err := c.r.Cron(); !errors.Is(err, c.err) {
			t.Errorf("%+v: %v, want %v", c.r, err, c.err)
		}
	}
}

func TestRepeatOfLeavesOtherLinesAlone(t *testing.T) {
	for _, line := range []string{"*/5 * * * *", "0 9 1 1 *", "0 9 * * 1,3", "0 9 31 * *", "@hourly", "@every 6h", "0 09 * * *", "0 9 1 * 1", ""} {
		if r, ok := RepeatOf(line); ok {
			t.Errorf("RepeatOf(%q) = %+v: a line the form cannot show must stay a cron line", line, r)
		}
	}
	if r, ok := RepeatOf("0 9 * * 7"); !ok || r.Weekday != 0 {
		t.Errorf("Sunday as 7: %+v %v", r, ok)
	}
	if r, ok := RepeatOf("@daily"); !ok || r.Clock() != "00:00" {
		t.Errorf("@daily: %+v %v", r, ok)
	}
}

func TestParseClock(t *testing.T) {
	for in, want := range map[string][2]int{"09:00": {9, 0}, "23:59": {23, 59}, "7:05": {7, 5}, "09:30:00": {9, 30}} {
		h, m, err := ParseClock(in)
		if err != nil || h != want[0] || m != want[1] {
			t.Errorf("%q: %d:%d %v", in, h, m, err)
		}
	}
	for _, in := range []string{"", "9", "24:00", "12:60", "ab:cd", "9:5"} {
		if _, _, err := ParseClock(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}
