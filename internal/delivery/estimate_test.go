package delivery

import (
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

func TestEstimateFinish(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ms := provider.Limits{PerMinute: 30, PerDay: 10000}
	for _, c := range []struct {
		name       string
		l          provider.Limits
		n, sent    int
		dur        time.Duration
		today, day int
	}{
		{"within the day", ms, 300, 0, 10 * time.Minute, 300, 0},
		{"the day nearly spent", ms, 300, 9900, 24*time.Hour + 200*2*time.Second, 100, 1},
		{"three days", provider.Limits{PerDay: 2000}, 5000, 0, 48 * time.Hour, 2000, 2},
		{"no limits", provider.Limits{}, 100000, 0, 0, 100000, 0},
	} {
		e := EstimateFinish(c.l, c.n, c.sent, now)
		if e.Duration != c.dur || e.Today != c.today || e.Days != c.day {
			t.Errorf("%s: %v today %d days %d; want %v, %d, %d", c.name, e.Duration, e.Today, e.Days, c.dur, c.today, c.day)
		}
		if c.dur > 0 && !e.Finish.Equal(now.Add(c.dur)) || c.dur == 0 && !e.Finish.IsZero() {
			t.Errorf("%s: finish %v", c.name, e.Finish)
		}
	}
}
