package memprobe

import "testing"

// The probe sees a large allocation held for a while, and not a small one.
func TestPeakSeesWhatWorkHolds(t *testing.T) {
	var keep []byte
	big := Peak(func() {
		keep = make([]byte, 64<<20)
		for i := range keep {
			keep[i] = 1
		}
	})
	if big < 60<<20 {
		t.Errorf("64 MiB held: peak %.1f MiB", MB(big))
	}
	keep = nil
	small := Peak(func() { _ = make([]byte, 1024) })
	if small > 8<<20 {
		t.Errorf("1 KiB: peak %.1f MiB", MB(small))
	}
}
