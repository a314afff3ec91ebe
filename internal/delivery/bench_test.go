//go:build linux

package delivery

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// The benchmarks measure the sender alone: the discard SMTP server runs in
// a child process (this test binary re-executed), so the process CPU time
// read with getrusage is the sender's — rendering, MIME, the journal in
// SQLite, the SMTP client with PIPELINING — not the sink's.
//
//	go test -run '^$' -bench Deliver -benchtime 1x ./internal/delivery
//
// Each benchmark is one full delivery; scripts/bench runs each in its own
// process so that the peak RSS figure (ru_maxrss) is that delivery's.

const sinkEnv = "BLUEMOON_BENCH_SINK"

func TestMain(m *testing.M) {
	if os.Getenv(sinkEnv) == "1" {
		runSink()
		return
	}
	if v := os.Getenv(apiSinkEnv); v != "" {
		runAPISink(v) // bench_api_test.go
		return
	}
	os.Exit(m.Run())
}

// runSink serves a discard SMTP server until stdin closes, printing its
// address and, at the end, the number of messages it took.
func runSink() {
	s, err := smtptest.Start(func(s *smtptest.Server) { s.Discard = true })
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println(s.Addr)
	bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Println(s.Count())
	s.Close()
}

type sink struct {
	cmd  *exec.Cmd
	addr string
	in   interface{ Close() error }
	out  *bufio.Reader
}

func startSink(b *testing.B) *sink { return startChildSink(b, sinkEnv+"=1") }

// startChildSink re-executes the test binary with env set, which makes it
// a sink that prints its address first.
func startChildSink(b *testing.B, env string) *sink {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run", "^$")
	cmd.Env = append(os.Environ(), env)
	in, _ := cmd.StdinPipe()
	outp, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	out := bufio.NewReader(outp)
	line, err := out.ReadString('\n')
	if err != nil || strings.HasPrefix(line, "ERR") {
		b.Fatalf("sink: %v %s", err, line)
	}
	return &sink{cmd: cmd, addr: strings.TrimSpace(line), in: in, out: out}
}

// stop ends the sink and returns how many messages it accepted.
func (s *sink) stop() int64 {
	s.in.Close()
	line, _ := s.out.ReadString('\n')
	s.cmd.Wait()
	n, _ := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	return n
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func maxRSS() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss * 1024 // KiB on Linux
}

// writeBigList writes n personalised rows without holding them.
func writeBigList(b *testing.B, n int) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "list.csv")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	w.WriteString("email,name,company,plan\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "user%07d@example.com,Name %d,Company %d,plan-%d\n", i, i, i%997, i%5)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	return p
}

func benchPlan(list string) Plan {
	return Plan{
		Account: "bench",
		Spec: merge.Spec{
			Subject: "{{.name}}, your {{.plan}} newsletter",
			Text:    "Dear {{.name}} of {{.company}},\n\nHere is what is new this month for your {{.plan}} plan.\n\nRegards,\nExample News\n",
			From:    "news@example.com", FromName: "Example News",
		},
		List: list,
	}
}

func benchDeliver(b *testing.B, n, conns int) { benchRun(b, n, conns, mailerSMTP) }

const (
	mailerSMTP       = iota // the transport, BDAT batches when offered
	mailerSMTPData          // the transport, DATA only (no CHUNKING)
	mailerSMTPSingle        // the transport, one Send per message (no batches)
	mailerNull              // no I/O
)

// nullMailer accepts every message without any I/O: with it the benchmark
// measures the engine's own cost (read, claim, render, MIME, journal,
// hand-offs) apart from the SMTP exchange.
type nullMailer struct{ n *atomic.Int64 }

func (m nullMailer) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	m.n.Add(1)
	return "250 2.0.0 OK", nil
}
func (nullMailer) Close() error { return nil }

// BenchmarkEngine100k: 100,000 messages to a Mailer that does no I/O.
func BenchmarkEngine100k(b *testing.B) { benchRun(b, 100_000, benchConns(), mailerNull) }

// BenchmarkDeliver100kData: the same as Deliver100k with DATA instead of
// BDAT (servers without CHUNKING): one round trip per message.
func BenchmarkDeliver100kData(b *testing.B) { benchRun(b, 100_000, benchConns(), mailerSMTPData) }

// BenchmarkDeliver100kSingle: one message per Send (the engine before
// batches): two round trips per message.
func BenchmarkDeliver100kSingle(b *testing.B) { benchRun(b, 100_000, benchConns(), mailerSMTPSingle) }

// singleMailer hides SendBatch, so the engine sends one message at a time.
type singleMailer struct{ m Mailer }

func (s singleMailer) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	return s.m.Send(ctx, from, to, msg)
}
func (s singleMailer) Close() error { return s.m.Close() }

func benchRun(b *testing.B, n, conns int, kind int) {
	list := writeBigList(b, n)
	for b.Loop() {
		db := openDB(b)
		var s *sink
		var got atomic.Int64
		dial := func(ctx context.Context, refresh bool) (Mailer, error) { return nullMailer{&got}, nil }
		if kind != mailerNull {
			s = startSink(b)
			dial = transportDialerOpts(s.addr, kind == mailerSMTPData)
		}
		if kind == mailerSMTPSingle {
			d := dial
			dial = func(ctx context.Context, refresh bool) (Mailer, error) {
				m, err := d(ctx, refresh)
				if err != nil {
					return nil, err
				}
				return singleMailer{m}, nil
			}
		}
		runtime.GC()
		cpu0, t0 := cpuTime(), time.Now()
		pf, err := Prepare(context.Background(), db.DB, benchPlan(list))
		if err != nil {
			b.Fatal(err)
		}
		cpu1, t1 := cpuTime(), time.Now()
		opts := Options{Limits: provider.Limits{Connections: conns, PerConnection: 10000}}
		opts.Window, _ = strconv.Atoi(os.Getenv("BLUEMOON_BENCH_WINDOW"))
		e := &Engine{DB: db.DB, Dial: dial, Opts: opts}
		out, err := e.Run(context.Background(), pf.DeliveryID)
		if err != nil {
			b.Fatal(err)
		}
		cpu2, t2 := cpuTime(), time.Now()
		if s != nil {
			got.Store(s.stop())
		}
		if out.Counts.Sent != n || got.Load() != int64(n) {
			b.Fatalf("sent %d, sink got %d, want %d", out.Counts.Sent, got.Load(), n)
		}
		b.ReportMetric(float64(n)/t2.Sub(t1).Seconds(), "msgs/s")
		b.ReportMetric(float64((cpu2-cpu1).Microseconds())/float64(n), "cpu-µs/msg")
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(n), "preflight-cpu-µs/row")
		b.ReportMetric(t1.Sub(t0).Seconds(), "preflight-s")
		b.ReportMetric(float64(maxRSS())/(1<<20), "peak-rss-MiB")
		if n := benchBatches.Swap(0); n > 0 {
			b.ReportMetric(float64(benchBatched.Swap(0))/float64(n), "msgs/batch")
		}
	}
}

// BenchmarkDeliver100k: 100,000 personalised messages, journal on.
func BenchmarkDeliver100k(b *testing.B) { benchDeliver(b, 100_000, benchConns()) }

// BenchmarkDeliver1M: a 1,000,000-row list, read, checked, stored and sent.
func BenchmarkDeliver1M(b *testing.B) { benchDeliver(b, 1_000_000, benchConns()) }

// BenchmarkPrepare1M: only the preflight and import of a 1,000,000-row list.
func BenchmarkPrepare1M(b *testing.B) {
	list := writeBigList(b, 1_000_000)
	for b.Loop() {
		db := openDB(b)
		cpu0, t0 := cpuTime(), time.Now()
		pf, err := Prepare(context.Background(), db.DB, benchPlan(list))
		if err != nil || pf.Ready != 1_000_000 {
			b.Fatal(err, pf)
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1e6, "cpu-µs/row")
		b.ReportMetric(time.Since(t0).Seconds(), "s")
		b.ReportMetric(float64(maxRSS())/(1<<20), "peak-rss-MiB")
	}
}

// benchConns is the number of SMTP connections (BLUEMOON_BENCH_CONNS, default 3: the presets').
func benchConns() int {
	if n, err := strconv.Atoi(os.Getenv("BLUEMOON_BENCH_CONNS")); err == nil && n > 0 {
		return n
	}
	return 3
}

// BenchmarkListFinished: listing 5 finished deliveries of 20,000
// recipients each (what `deliveries list` and the console's list do at
// every look), which reads each one's final stamp rather than counting
// its rows.
func BenchmarkListFinished(b *testing.B) {
	list := writeBigList(b, 20_000)
	db := openDB(b)
	var got atomic.Int64
	dial := func(ctx context.Context, refresh bool) (Mailer, error) { return nullMailer{&got}, nil }
	for range 5 {
		pf, err := Prepare(context.Background(), db.DB, benchPlan(list))
		if err != nil {
			b.Fatal(err)
		}
		e := &Engine{DB: db.DB, Dial: dial, Opts: Options{Limits: provider.Limits{Connections: 3, PerConnection: 10000}}}
		if out, err := e.Run(context.Background(), pf.DeliveryID); err != nil || out.Status != StatusDone {
			b.Fatal(err, out)
		}
	}
	for b.Loop() {
		all, err := List(context.Background(), db.DB)
		if err != nil || len(all) != 5 || all[0].Counts.Sent != 20_000 {
			b.Fatal(err, len(all))
		}
	}
}

// BenchmarkListPaused: listing a 100,000-row delivery paused by its daily
// limit (as one of several days' sending is most of the time), which the
// console's list shows at every refresh.
func BenchmarkListPaused(b *testing.B) {
	list := writeBigList(b, 100_000)
	db := openDB(b)
	var got atomic.Int64
	dial := func(ctx context.Context, refresh bool) (Mailer, error) { return nullMailer{&got}, nil }
	pf, err := Prepare(context.Background(), db.DB, benchPlan(list))
	if err != nil {
		b.Fatal(err)
	}
	e := &Engine{DB: db.DB, Dial: dial, Opts: Options{Limits: provider.Limits{Connections: 3, PerConnection: 10000, PerDay: 30_000}, MaxDailyWait: time.Nanosecond}}
	if out, err := e.Run(context.Background(), pf.DeliveryID); err != nil || out.Status != StatusPaused || out.Cause != CauseDailyLimit {
		b.Fatal(err, out)
	}
	for b.Loop() {
		all, err := List(context.Background(), db.DB)
		if err != nil || len(all) != 1 || all[0].Counts.Sent != 30_000 {
			b.Fatal(err, len(all))
		}
	}
}
