//go:build linux

package engine

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
)

// The benchmarks run a whole `bluemoon send` — preflight, import, sign-in
// check, delivery, journal — as a user would, in its own process, to a
// discard SMTP server in this one. "cpu-µs/msg" is the child's user +
// system time (wait4's rusage) divided by the messages: the sender's CPU
// alone, which other load on a shared machine disturbs far less than wall
// time. "peak-rss-MiB" is the child's ru_maxrss; "ctxsw/msg" its context
// switches (voluntary and not) per message.
//
//	go test -run '^$' -bench Send -benchtime 1x ./tests/engine
//
// BLUEMOON_TEST_BIN measures another build (e.g. the previous commit's);
// BLUEMOON_CPUPROFILE=FILE makes the child write a CPU profile;
// BLUEMOON_BENCH_ROWS overrides the list size.

func BenchmarkSend100k(b *testing.B) { benchSend(b, rows(100_000), false, false) }

// BenchmarkSend100kGrouped: the same to a server that answers a pipelined
// group of commands in one segment, as Postfix does (go-smtp, and so the
// server above, writes each reply in a segment of its own; on loopback
// the sender's system calls carry the server's segments too).
func BenchmarkSend100kGrouped(b *testing.B) { benchSend(b, rows(100_000), false, true) }

// BenchmarkSend1M: a 1,000,000-row list (peak memory must stay flat).
func BenchmarkSend1M(b *testing.B) { benchSend(b, rows(1_000_000), false, false) }

// BenchmarkSendDryRun100k: the same command with --dry-run: the preflight
// (read, check, render, store) and the sign-in check, nothing sent; what
// it costs is part of BenchmarkSend100k's figure.
func BenchmarkSendDryRun100k(b *testing.B) { benchSend(b, rows(100_000), true, false) }

func rows(def int) int {
	if n, err := strconv.Atoi(os.Getenv("BLUEMOON_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return def
}

// writeBigList writes n personalised rows without holding them.
func writeBigList(tb testing.TB, dir string, n int) string {
	tb.Helper()
	p := filepath.Join(dir, "list.csv")
	f, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	w.WriteString("email,name,company,plan\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "user%07d@example.com,Name %d,Company %d,plan-%d\n", i, i, i%997, i%5)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return p
}

func benchSend(b *testing.B, n int, dryRun, grouped bool) {
	dir := b.TempDir()
	list := writeBigList(b, dir, n)
	body := filepath.Join(dir, "body.txt")
	os.WriteFile(body, []byte("Dear {{.name}} of {{.company}},\n\nHere is what is new this month for your {{.plan}} plan.\n\nRegards,\nExample News\n"), 0o600)
	for b.Loop() {
		srv, err := smtptest.Start(func(s *smtptest.Server) { s.Discard = true; s.GroupReplies = grouped })
		if err != nil {
			b.Fatal(err)
		}
		home := b.TempDir()
		// The generic SMTP account as `account add` makes it: its presets
		// (4 connections, and whatever it says per connection).
		mustRun(b, home, "account", "add", "bench", "--from", "news@example.com", "--from-name", "Example News",
			"--smtp", srv.Addr, "--security", "none", "--auth", "none")
		args := []string{"--home", home, "send", "--account", "bench", "--recipients", list,
			"--subject", "{{.name}}, your {{.plan}} newsletter", "--text", body, "--unattended"}
		if dryRun {
			args = append(args, "--dry-run")
		}
		cmd := exec.Command(binary(b), args...)
		cmd.Env = os.Environ()
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		wall := time.Since(t0)
		if err != nil {
			b.Fatalf("send: %v\n%s", err, out)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		srv.Close()
		if got, want := srv.Count(), map[bool]int64{false: int64(n)}[dryRun]; got != want {
			b.Fatalf("the server got %d messages, want %d\n%s", got, want, out)
		}
		b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/msg")
		b.ReportMetric(float64(time.Duration(ru.Stime.Nano()).Microseconds())/float64(n), "sys-µs/msg")
		b.ReportMetric(float64(n)/wall.Seconds(), "msgs/s")
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-rss-MiB")
		// Context switches depend far less on other load than CPU time
		// does: a change that wakes the process less shows here first.
		b.ReportMetric(float64(ru.Nvcsw+ru.Nivcsw)/float64(n), "ctxsw/msg")
	}
}
