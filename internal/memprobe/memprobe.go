// Package memprobe measures how much heap a piece of work needs at its
// peak. Tests use it to prove that hostile input (an endless server reply,
// a 200 MB line, /dev/zero as an attachment) is refused with memory
// bounded, rather than after the machine ran out of it.
package memprobe

import (
	"runtime"
	"sync"
	"time"
)

// Peak runs work and returns the most heap it held at once above what was
// in use before it started, in bytes. The heap is sampled every few
// milliseconds while work runs, so a growth that lasts only a moment may be
// missed; the unbounded growth this is for never is.
func Peak(work func()) uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var (
		mu   sync.Mutex
		peak = base
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		mu.Lock()
		peak = max(peak, ms.HeapInuse)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	}()
	work()
	sample()
	close(done)
	wg.Wait()
	if peak < base {
		return 0
	}
	return peak - base
}

// MB formats n bytes as mebibytes with one decimal, for test logs.
func MB(n uint64) float64 { return float64(n*10/(1<<20)) / 10 }
