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
	onConns(b, s, n, func(perConn int) {
		m, err := dial(context.Background(), false)
		if err != nil {
			panic(err)
		}
		for i := 0; i < perConn; i++ {
			if _, err := m.Send(context.Background(), "a@example.com", []string{"b@example.com"}, msg); err != nil {
				panic(err)
			}
		}
		m.Close()
	})
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
			onConns(b, s, n, func(perConn int) {
				m, err := dial(context.Background(), false)
				if err != nil {
					panic(err)
				}
				bm := m.(BatchMailer)
				items := make([]Item, window)
				to := []string{"b@example.com"}
				for i := 0; i < perConn; i += window {
					k := min(window, perConn-i)
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
			})
		})
	}
}

// onConns runs send on benchConns() goroutines, each sending its share of
// n messages to the sink, and reports CPU per message and throughput.
func onConns(b *testing.B, s *sink, n int, send func(perConn int)) {
	conns := benchConns()
	cpu0, t0 := cpuTime(), time.Now()
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			send(n / conns)
		}()
	}
	wg.Wait()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(n), "cpu-µs/msg")
	b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "msgs/s")
	s.stop()
}
