package core

import (
	"fmt"
	"strings"
	"time"
)

// spokenDuration is d as people write it ("1 hour", "5 minutes", "1 hour
// 30 minutes"), not as Go prints it ("1h0m0s"); under a second, as Go does.
func spokenDuration(d time.Duration) string {
	if d < time.Second {
		return d.String()
	}
	d = d.Round(time.Second)
	var parts []string
	for _, u := range []struct {
		size time.Duration
		name string
	}{{time.Hour, "hour"}, {time.Minute, "minute"}, {time.Second, "second"}} {
		n := d / u.size
		d -= n * u.size
		switch {
		case n == 1:
			parts = append(parts, "1 "+u.name)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %ss", n, u.name))
		}
	}
	return strings.Join(parts, " ")
}
