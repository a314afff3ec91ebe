package delivery

import (
	"context"
	"database/sql"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// SentLast24h is how many messages account sent in the rolling 24 hours
// before now, across deliveries and processes (the send log the daily
// limit counts from).
func SentLast24h(ctx context.Context, db *sql.DB, account string, now time.Time) (int, error) {
	var n sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT SUM(count) FROM send_log WHERE account = ? AND minute > ?`, account, now.Unix()/60-1440).Scan(&n)
	return int(n.Int64), err
}

// Estimate is how long sending n messages takes within an account's
// limits, roughly: the per-minute limit paces it, the daily limit holds
// the rest until the 24-hour window has room again.
type Estimate struct {
	Messages int
	// Duration and Finish are zero when the account has no per-minute
	// limit and the list fits the day: as fast as the server takes them.
	Duration time.Duration
	Finish   time.Time
	// Today is how many can go before the daily limit holds the rest
	// (all of them when there is no daily limit).
	Today int
	// Days is how many further 24-hour windows the rest needs (0: all
	// within the current window).
	Days int
}

// EstimateFinish works out an Estimate for n messages through an account
// with limits l that sent sent in the last 24 hours, starting at now.
func EstimateFinish(l provider.Limits, n, sent int, now time.Time) Estimate {
	e := Estimate{Messages: n, Today: n}
	pace := func(k int) time.Duration {
		if l.PerMinute <= 0 || k <= 0 {
			return 0
		}
		return time.Duration(float64(k) / float64(l.PerMinute) * float64(time.Minute))
	}
	if l.PerDay > 0 {
		room := max(l.PerDay-sent, 0)
		if n > room {
			e.Today = room
			rest := n - room
			e.Days = (rest + l.PerDay - 1) / l.PerDay
			last := rest - (e.Days-1)*l.PerDay
			e.Duration = time.Duration(e.Days)*24*time.Hour + pace(last)
		}
	}
	if e.Days == 0 {
		e.Duration = pace(n)
	}
	if e.Duration > 0 {
		e.Finish = now.Add(e.Duration)
	}
	return e
}
