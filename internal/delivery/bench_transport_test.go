//go:build linux

package delivery

import (
	"context"
	"sync"
	"testing"
	"time"
)

// BenchmarkTransportOnly: the SMTP exchange alone, for comparison — the
// transport sending one ready-made message at a time on benchConns()
// connections to the same discard sink, no engine, no journal.
func BenchmarkTransportOnly(b *testing.B) {
	s := startSink(b)
	dial := transportDialer(s.addr)
	msg := []byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nHello there, this is a test message body.\r\n")
	const n = 30000
	conns := benchConns()
	cpu0, t0 := cpuTime(), time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := dial(context.Background(), false)
			if err != nil {
				panic(err)
			}
			for i := 0; i < n/conns; i++ {
				if _, err := m.Send(context.Background(), "a@example.com", []string{"b@example.com"}, msg); err != nil {
					panic(err)
				}
			}
			m.Close()
		}()
	}
	wg.Wait()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/n, "cpu-µs/msg")
	b.ReportMetric(n/time.Since(t0).Seconds(), "msgs/s")
	s.stop()
}
