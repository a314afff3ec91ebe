package delivery

import (
	"testing"
	"time"
)

// The throttle is driven with explicit times: no sleeping, no timing.
func TestPerMinuteThrottleSpreadsSends(t *testing.T) {
	now := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	th := NewThrottle(30, 0, now)
	sent := 0
	var inFirstMinute int
	// Simulate a feeder that sends whenever allowed, over 5 minutes.
	for clock := now; clock.Before(now.Add(5 * time.Minute)); {
		wait, daily := th.Reserve(clock)
		if daily {
			t.Fatal("daily limit reported without one")
		}
		if wait == 0 {
			sent++
			if clock.Before(now.Add(time.Minute)) {
				inFirstMinute++
			}
			continue
		}
		if wait > 2*time.Second {
			t.Fatalf("wait %v at 30/min", wait)
		}
		clock = clock.Add(wait)
	}
	if inFirstMinute > 31 || sent > 151 || sent < 149 {
		t.Fatalf("sent %d in 5 minutes (%d in the first): want about 150, never more than 30 a minute (+1)", sent, inFirstMinute)
	}
}

func TestDailyWindowRolls(t *testing.T) {
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	th := NewThrottle(0, 3, start)
	th.Seed(start.Add(-23*time.Hour).Unix()/60, 2, start) // two sent yesterday, 23 h ago
	th.Seed(start.Add(-25*time.Hour).Unix()/60, 5, start) // outside the window: ignored
	if wait, _ := th.Reserve(start); wait != 0 {
		t.Fatalf("third send refused (wait %v)", wait)
	}
	wait, daily := th.Reserve(start.Add(time.Minute))
	if !daily || wait < 59*time.Minute || wait > 61*time.Minute {
		t.Fatalf("fourth: wait %v daily %v, want about 1h (until the sends of 23h ago leave the window)", wait, daily)
	}
	if wait, _ := th.Reserve(start.Add(time.Hour + time.Minute)); wait != 0 {
		t.Fatalf("after the window rolled: wait %v", wait)
	}
	if n := th.SentToday(start.Add(time.Hour + time.Minute)); n != 2 {
		t.Fatalf("sent today %d, want 2", n)
	}
}
