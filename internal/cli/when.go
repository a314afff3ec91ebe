package cli

import (
	"time"
)

// whenLayout is how every listing shows a moment: in one zone, the
// computer's, named on each line, so that a listing never mixes UTC with
// local time or leaves the reader guessing which it is.
const whenLayout = "2006-01-02 15:04 MST"

// zone is the zone times are shown in: the computer's unless a test set
// App.Location.
func (a *App) zone() *time.Location {
	if a.Location != nil {
		return a.Location
	}
	return time.Local
}

// when shows t in the listing zone, "-" for no time.
func (a *App) when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(a.zone()).Format(whenLayout)
}
