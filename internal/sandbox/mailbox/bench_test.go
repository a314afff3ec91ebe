package mailbox

import (
	"testing"
	"time"
)

// BenchmarkDeliver2000: a rehearsal's 2,000 messages into a mailbox that
// keeps 2,000 (the default), then 500 more, which prune the oldest.
func BenchmarkDeliver2000(b *testing.B) {
	raw := []byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: x\r\n\r\nbody\r\n")
	for b.Loop() {
		s, err := Open(b.TempDir(), 0)
		if err != nil {
			b.Fatal(err)
		}
		at := time.Now()
		for i := 0; i < DefaultMax+500; i++ {
			if _, err := s.Deliver(Envelope{To: []string{"b@example.com"}, At: at.Add(time.Duration(i))}, raw); err != nil {
				b.Fatal(err)
			}
		}
		if n, _ := s.Count(); n != DefaultMax {
			b.Fatalf("%d kept, want %d", n, DefaultMax)
		}
	}
}
