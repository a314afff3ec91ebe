//go:build linux

package delivery

import (
	"context"
	"fmt"
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

// BenchmarkTransportBatch: the transport's SendBatch, 16 ready-made
// messages a batch: BDAT (CHUNKING offered) and DATA.
func BenchmarkTransportBatch(b *testing.B) {
	for _, noChunking := range []bool{false, true} {
		name := "BDAT"
		if noChunking {
			name = "DATA"
		}
		b.Run(name, func(b *testing.B) {
			s := startSink(b)
			dial := transportDialerOpts(s.addr, noChunking)
			msg := []byte("From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nHello there, this is a test message body.\r\n")
			const n, window = 30000, 16
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
					bm := m.(BatchMailer)
					items := make([]Item, window)
					to := []string{"b@example.com"}
					for i := 0; i < n/conns; i += window {
						k := min(window, n/conns-i)
						for j := range items[:k] {
							items[j] = Item{To: to, Msg: msg}
						}
						bm.SendBatch(context.Background(), "a@example.com", items[:k])
						for _, it := range items[:k] {
							if it.Err != nil {
								panic(fmt.Sprint(it.Err))
							}
						}
					}
					m.Close()
				}()
			}
			wg.Wait()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/n, "cpu-µs/msg")
			b.ReportMetric(n/time.Since(t0).Seconds(), "msgs/s")
			s.stop()
		})
	}
}
