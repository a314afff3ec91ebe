package delivery

import "time"

// Clock is the time source of the throttle and the retry schedule; tests
// pass a fake one so that limits are checked without waiting.
type Clock interface {
	Now() time.Time
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Throttle keeps one account inside its provider's limits: a token bucket
// for messages per minute and a rolling 24-hour count kept per minute.
// It is used by a single goroutine (the feeder) and never sleeps itself:
// Reserve says how long to wait, so tests drive it with a fake clock.
type Throttle struct {
	perMinute int
	perDay    int
	burst     float64

	tokens float64
	last   time.Time

	// minutes[m % 1440] counts sends in unix minute m (stamps[...] == m).
	minutes [1440]int32
	stamps  [1440]int64
	inDay   int
}

// NewThrottle returns a throttle for perMinute messages per minute and
// perDay per rolling 24 hours (0: no limit). The bucket starts with one
// token, so sends are spread evenly rather than bursting a minute's worth.
func NewThrottle(perMinute, perDay int, now time.Time) *Throttle {
	return &Throttle{perMinute: perMinute, perDay: perDay, burst: 1, tokens: 1, last: now}
}

// Seed adds n sends made in the unix minute m (from the send log).
func (t *Throttle) Seed(minute int64, n int, now time.Time) {
	nowMin := now.Unix() / 60
	if minute <= nowMin-1440 || minute > nowMin {
		return
	}
	t.expire(nowMin)
	i := minute % 1440
	if t.stamps[i] != minute {
		t.inDay -= int(t.minutes[i])
		t.minutes[i], t.stamps[i] = 0, minute
	}
	t.minutes[i] += int32(n)
	t.inDay += n
}

// expire drops the minutes that have left the 24-hour window.
func (t *Throttle) expire(nowMin int64) {
	for i := range t.stamps {
		if t.minutes[i] != 0 && t.stamps[i] <= nowMin-1440 {
			t.inDay -= int(t.minutes[i])
			t.minutes[i] = 0
		}
	}
}

// SentToday is the number of sends in the last 24 hours.
func (t *Throttle) SentToday(now time.Time) int {
	t.expire(now.Unix() / 60)
	return t.inDay
}

// Reserve takes one send at now when the limits allow it and returns 0;
// else it takes nothing and returns how long to wait, and daily reports
// whether the daily limit (not the per-minute one) is what holds it back.
func (t *Throttle) Reserve(now time.Time) (wait time.Duration, daily bool) {
	nowMin := now.Unix() / 60
	if t.perDay > 0 {
		t.expire(nowMin)
		if t.inDay >= t.perDay {
			return t.dailyWait(now), true
		}
	}
	if t.perMinute > 0 {
		interval := time.Minute / time.Duration(t.perMinute)
		if el := now.Sub(t.last); el > 0 {
			t.tokens = min(t.burst, t.tokens+float64(el)/float64(interval))
		}
		t.last = now
		if t.tokens < 1 {
			return time.Duration((1 - t.tokens) * float64(interval)), false
		}
		t.tokens--
	}
	if t.perDay > 0 {
		i := nowMin % 1440
		if t.stamps[i] != nowMin {
			t.minutes[i], t.stamps[i] = 0, nowMin
		}
		t.minutes[i]++
		t.inDay++
	}
	return 0, false
}

// dailyWait is the time until the oldest minute in the window leaves it.
func (t *Throttle) dailyWait(now time.Time) time.Duration {
	oldest := int64(-1)
	for i := range t.stamps {
		if t.minutes[i] != 0 && (oldest < 0 || t.stamps[i] < oldest) {
			oldest = t.stamps[i]
		}
	}
	if oldest < 0 {
		return 0
	}
	open := time.Unix((oldest+1440)*60, 0)
	return max(open.Sub(now), time.Second)
}
