package core

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The scheduler's give-up says its durations as people write them, not as
// Go prints them ("1h0m0s", "5m0s").
func TestResumeGaveUpSaysDurationsInWords(t *testing.T) {
	msg := (&ResumeGaveUpError{ID: 7, Since: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Err: errors.New("dial tcp: timeout")}).Error()
	if !strings.Contains(msg, "for 1 hour it tried every 5 minutes") || strings.Contains(msg, "0s") {
		t.Fatalf("give-up: %q; want \"for 1 hour it tried every 5 minutes\"", msg)
	}
	for d, want := range map[time.Duration]string{
		time.Hour: "1 hour", 2 * time.Hour: "2 hours", 5 * time.Minute: "5 minutes", time.Minute: "1 minute",
		90 * time.Minute: "1 hour 30 minutes", 30 * time.Second: "30 seconds", 61 * time.Second: "1 minute 1 second",
		200 * time.Millisecond: "200ms",
	} {
		if got := spokenDuration(d); got != want {
			t.Errorf("spokenDuration(%v) = %q, want %q", d, got, want)
		}
	}
}
