//go:build linux

package delivery

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"

	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/apisrv"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// The HTTPS APIs' cost per message beside SMTP's: the API stand-in runs
// in a child process like the SMTP sink, so getrusage counts the sender
// alone (MIME, base64 or JSON, net/http, the engine and its journal).
//
//	go test -run '^$' -bench Via -benchtime 1x ./internal/delivery

const apiSinkEnv = "BLUEMOON_BENCH_API_SINK"

// runAPISink serves a discarding Graph or Gmail stand-in that accepts the
// token "bench" until stdin closes, printing its URL, then the count.
func runAPISink(flavor string) {
	f := apisrv.Graph
	if flavor == string(account.ViaGmailAPI) {
		f = apisrv.Gmail
	}
	s, err := apisrv.Start(apisrv.Options{Flavor: f, Discard: true, MaxConcurrent: 64,
		CheckToken: func(tok string) (string, []string, error) {
			if tok != "bench" {
				return "", nil, fmt.Errorf("unknown token")
			}
			return "news@example.com", []string{apisrv.GraphScope, "https://mail.google.com/"}, nil
		}})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println(s.URL())
	bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Println(s.Accepted())
	s.Close()
}

func startAPISink(b *testing.B, via account.Via) *sink {
	return startChildSink(b, apiSinkEnv+"="+string(via))
}

type benchTokens struct{}

func (benchTokens) AccessToken(context.Context) (string, error)            { return "bench", nil }
func (benchTokens) RefreshRefused(context.Context, string) (string, error) { return "bench", nil }

// viaSink starts the sink for via and returns the engine's dialer to it.
func viaSink(b *testing.B, via account.Via) (*sink, Dialer) {
	if via == account.ViaSMTP {
		s := startSink(b)
		return s, transportDialerOpts(s.addr, false)
	}
	s := startAPISink(b, via)
	return s, TransportDialer(transport.Config{Via: via, APIEndpoint: s.addr, Tokens: benchTokens{}})
}

var benchVias = []account.Via{account.ViaSMTP, account.ViaGraph, account.ViaGmailAPI}

// BenchmarkViaTransport: one ready-made message of about 1 KB at a time on
// benchConns() sessions, no engine: the transport's own cost per message.
func BenchmarkViaTransport(b *testing.B) {
	body := strings.Repeat("Dear reader, here is what is new this month. ", 20)
	msg := []byte("From: news@example.com\r\nTo: b@example.com\r\nSubject: hi\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
	for _, via := range benchVias {
		b.Run(string(via), func(b *testing.B) {
			s, dial := viaSink(b, via)
			onConns(b, s, 20000, func(perConn int) {
				m, err := dial(context.Background(), false)
				if err != nil {
					panic(err)
				}
				for i := 0; i < perConn; i++ {
					if _, err := m.Send(context.Background(), "news@example.com", []string{"b@example.com"}, msg); err != nil {
						panic(err)
					}
				}
				m.Close()
			})
		})
	}
}

// BenchmarkDeliverVia20k: a whole delivery of 20,000 personalised
// messages (list, render, MIME, journal) through each way. SMTP batches
// (PIPELINING, BDAT); the APIs take one request per message.
func BenchmarkDeliverVia20k(b *testing.B) {
	const n = 20_000
	list := writeBigList(b, n)
	for _, via := range benchVias {
		b.Run(string(via), func(b *testing.B) {
			for b.Loop() {
				db := openDB(b)
				pf, err := Prepare(context.Background(), db.DB, benchPlan(list))
				if err != nil {
					b.Fatal(err)
				}
				s, dial := viaSink(b, via)
				runtime.GC()
				cpu0, t0 := cpuTime(), time.Now()
				opts := Options{Limits: provider.Limits{Connections: benchConns(), PerConnection: 10000}}
				out, err := (&Engine{DB: db.DB, Dial: dial, Opts: opts}).Run(context.Background(), pf.DeliveryID)
				if err != nil {
					b.Fatal(err)
				}
				cpu1, t1 := cpuTime(), time.Now()
				var got atomic.Int64
				got.Store(s.stop())
				if out.Counts.Sent != n || got.Load() != n {
					b.Fatalf("sent %d, sink got %d, want %d (%s)", out.Counts.Sent, got.Load(), n, out.Reason)
				}
				b.ReportMetric(float64((cpu1-cpu0).Microseconds())/n, "cpu-µs/msg")
				b.ReportMetric(float64(n)/t1.Sub(t0).Seconds(), "msgs/s")
			}
			benchBatches.Store(0)
			benchBatched.Store(0)
		})
	}
}
