//go:build unix

package engine

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// killRun is one kill -9 of a real `bluemoon send`.
type killRun struct {
	slow, tls   bool
	conns, per  int   // the account's connections and messages per connection (0: its presets)
	rows        int   // recipients
	atReceived  int64 // kill once the server has received this many messages…
	inData      bool  // …from inside the server, while it holds that message unanswered,
	inRcpt      bool  // …or at that message's RCPT (refused 451 once the client is dead)
	afterMillis int   // or this long after the first message arrived (slow server)
}

// The crash promise, proven on the real binary: a `bluemoon send` killed
// with SIGKILL at random moments — from outside at any point, or while
// the server holds a message it has not answered, or its RCPT; against a
// fast server and one that answers each message after a while; in plain
// text and TLS — leaves at most connections × window (16) recipients
// unknown, loses none (every other one is received exactly once after
// `deliveries resume`), and `--resend-unknown` sends exactly the unknown
// ones again, after which every recipient is sent.
func TestKill9KeepsTheCrashBound(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary many times")
	}
	bin := binary(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 13))
	t.Logf("kill points drawn with seed %d (each subtest's name has its own)", seed)
	var runs []killRun
	for i := 0; i < 8; i++ { // fast server, plain; the account's presets (4 connections)
		runs = append(runs, killRun{rows: 1500, atReceived: 20 + rng.Int64N(1200), inData: i%2 == 1})
	}
	for i := 0; i < 3; i++ { // fast, TLS, reconnecting every 50 messages
		runs = append(runs, killRun{tls: true, conns: 3, per: 50, rows: 800, atReceived: 20 + rng.Int64N(600)})
	}
	for i := 0; i < 3; i++ { // slow server (20 ms a message: a window takes 0.3 s)
		runs = append(runs, killRun{slow: true, conns: 2, rows: 160, afterMillis: 50 + rng.IntN(900), inData: i == 0, atReceived: 3 + rng.Int64N(20)})
	}
	runs = append(runs, killRun{slow: true, tls: true, conns: 2, rows: 160, afterMillis: 100 + rng.IntN(600)})
	// Fast, plain, killed at a recipient's RCPT: the presets, and 3
	// connections reconnecting every 40 messages.
	runs = append(runs, killRun{rows: 1500, atReceived: 20 + rng.Int64N(1200), inRcpt: true},
		killRun{conns: 3, per: 40, rows: 300, atReceived: 5 + rng.Int64N(250), inRcpt: true})
	maxUnknown, total := 0, 0
	for i, kr := range runs {
		t.Run(fmt.Sprintf("%d_slow=%v_tls=%v_at=%d_indata=%v_inrcpt=%v_after=%dms", i, kr.slow, kr.tls, kr.atReceived, kr.inData, kr.inRcpt, kr.afterMillis), func(t *testing.T) {
			n := killOnce(t, bin, kr, i == 0)
			maxUnknown = max(maxUnknown, n)
			total += n
		})
	}
	t.Logf("%d runs; unknown at most %d per run (bound 64 for 4 connections, 32 for 2), %d in all", len(runs), maxUnknown, total)
}

func killOnce(t *testing.T, bin string, kr killRun, checkInterrupted bool) int {
	home, dir := t.TempDir(), t.TempDir()
	var child atomic.Pointer[os.Process]
	var rcpts atomic.Int64
	kill := func() {
		if p := child.Load(); p != nil {
			p.Kill()
		}
	}
	srv, err := smtptest.Start(func(s *smtptest.Server) {
		s.TLS = kr.tls
		if kr.slow {
			s.Delay = 20 * time.Millisecond
		}
		s.OnData = func(k int64) {
			if kr.inData && k == kr.atReceived {
				kill()
				time.Sleep(30 * time.Millisecond) // answer only once the client is dead
			}
		}
		s.RcptReply = func(string) error {
			if kr.inRcpt && rcpts.Add(1) == kr.atReceived {
				kill()
				time.Sleep(30 * time.Millisecond)
				return &smtp.SMTPError{Code: 451, Message: "too late"}
			}
			return nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	addArgs := []string{"account", "add", "news", "--from", "news@example.com", "--smtp", srv.Addr, "--auth", "none"}
	if kr.tls {
		ca := filepath.Join(dir, "ca.pem")
		os.WriteFile(ca, srv.CAPEM, 0o600)
		addArgs = append(addArgs, "--security", "tls", "--ca-file", ca)
	} else {
		addArgs = append(addArgs, "--security", "none")
	}
	if kr.conns > 0 {
		addArgs = append(addArgs, "--connections", fmt.Sprint(kr.conns))
	}
	if kr.per > 0 {
		addArgs = append(addArgs, "--per-connection", fmt.Sprint(kr.per))
	}
	mustRun(t, home, addArgs...)
	conns := kr.conns
	if conns == 0 {
		conns = 4 // the generic preset
	}
	bound := conns * 16

	var list strings.Builder
	list.WriteString("email,name\n")
	for i := 1; i <= kr.rows; i++ {
		fmt.Fprintf(&list, "r%04d@example.com,Name %d\n", i, i)
	}
	lp := filepath.Join(dir, "list.csv")
	os.WriteFile(lp, []byte(list.String()), 0o600)
	body := filepath.Join(dir, "body.txt")
	os.WriteFile(body, []byte("Hello {{.name}}\n"), 0o600)

	cmd := exec.Command(bin, "--home", home, "send", "--account", "news", "--recipients", lp, "--subject", "Hi {{.name}}", "--text", body, "--unattended")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child.Store(cmd.Process)
	if !kr.inData && !kr.inRcpt {
		deadline := time.Now().Add(60 * time.Second)
		for srv.Count() < max(1, kr.atReceived) && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if kr.slow {
			time.Sleep(time.Duration(kr.afterMillis) * time.Millisecond)
		}
		kill()
	}
	err = cmd.Wait()
	if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); err == nil || !ok || !st.Signaled() {
		t.Fatalf("the child was not killed (it finished first?): %v\n%s", err, out.String())
	}
	// The server may still be reading what the child wrote before it died.
	if !srv.WaitIdle(30 * time.Second) {
		t.Fatal("the server still has sessions open 30 s after the kill")
	}
	before := perRecipient(srv)
	if len(before) >= kr.rows {
		// Every message arrived before the kill; the journal may still
		// hold some as sending, and the checks below hold all the same.
		t.Logf("killed late: all %d received", kr.rows)
	}

	// What the dead run left: rows sending are the unknown ones to be.
	sending, status := journalState(t, home)
	if sending > bound {
		t.Errorf("%d rows left sending, over the bound of %d (%d connections × 16)", sending, bound, conns)
	}
	if status != "running" {
		t.Errorf("the killed run left status %q, want running (the stored status)", status)
	}
	if checkInterrupted {
		// 20 s later (its heartbeat aged by hand): any process sees it
		// interrupted, and show says how to go on.
		ageHeartbeat(t, home, 20*time.Second)
		if l := mustRun(t, home, "deliveries", "list").Stdout; !strings.Contains(l, "interrupted") {
			t.Errorf("deliveries list after the kill:\n%s", l)
		}
		if s := mustRun(t, home, "deliveries", "show", "1").Stdout; !strings.Contains(s, "Status:   interrupted") || !strings.Contains(s, "bluemoon deliveries resume 1") {
			t.Errorf("deliveries show after the kill:\n%s", s)
		}
	}

	r := run(t, home, "deliveries", "resume", "1", "--unattended")
	if want := map[bool]int{true: 3, false: 0}[sending > 0]; r.Code != want {
		t.Fatalf("resume: exit %d, want %d\n%s\n%s", r.Code, want, r.Stdout, r.Stderr)
	}
	if says := strings.Contains(r.Stderr, "are unknown"); says != (sending > 0) {
		t.Errorf("resume says some are unknown: %v, with %d left sending\n%s", says, sending, r.Stderr)
	}
	after := perRecipient(srv)
	states := reportStates(t, home)
	if len(states) != kr.rows {
		t.Fatalf("report has %d rows, want %d", len(states), kr.rows)
	}
	var unknown []string
	for addr, st := range states {
		switch st {
		case "sent":
			if after[addr] != 1 {
				t.Errorf("%s: sent, but received %d times", addr, after[addr])
			}
		case "unknown":
			unknown = append(unknown, addr)
			if after[addr] > 1 || after[addr] != before[addr] {
				t.Errorf("%s: unknown, received %d times (%d before the resume)", addr, after[addr], before[addr])
			}
			if !strings.Contains(r.Stderr, addr) {
				t.Errorf("%s is unknown but resume did not list it", addr)
			}
		default:
			t.Errorf("%s: %s after resume", addr, st)
		}
	}
	if len(unknown) != sending {
		t.Errorf("%d unknown after resume, %d were left sending", len(unknown), sending)
	}
	if (kr.inData || kr.inRcpt) && len(unknown) == 0 {
		t.Errorf("killed while the server held a message, yet nothing is unknown")
	}

	// --resend-unknown: those, and only those, once more.
	doubled := 0
	if len(unknown) > 0 {
		r = run(t, home, "deliveries", "resume", "1", "--resend-unknown")
		if r.Code != 0 {
			t.Fatalf("resume --resend-unknown: exit %d\n%s", r.Code, r.Stderr)
		}
		final := perRecipient(srv)
		for addr, n := range final {
			if n != after[addr] && !contains(unknown, addr) {
				t.Errorf("%s: received again by --resend-unknown, though it was not unknown", addr)
			}
			if n > 1 {
				doubled++
			}
		}
		for _, a := range unknown {
			if final[a] != after[a]+1 {
				t.Errorf("%s: received %d times after --resend-unknown (was %d)", a, final[a], after[a])
			}
		}
		if doubled > bound {
			t.Errorf("%d recipients got the message twice, over the bound of %d", doubled, bound)
		}
		for addr, st := range reportStates(t, home) {
			if st != "sent" {
				t.Errorf("%s: %s after --resend-unknown", addr, st)
			}
		}
	}
	t.Logf("killed with %d received; %d unknown (%d of them received), %d doubled by --resend-unknown (bound %d)",
		len(before), len(unknown), countReceived(unknown, after), doubled, bound)
	return len(unknown)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func perRecipient(srv *smtptest.Server) map[string]int {
	out := map[string]int{}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			out[to]++
		}
	}
	return out
}

func countReceived(addrs []string, got map[string]int) int {
	n := 0
	for _, a := range addrs {
		n += got[a]
	}
	return n
}

func openStore(t *testing.T, home string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// journalState reads delivery 1 as the dead run left it: its rows still
// sending, and its stored status.
func journalState(t *testing.T, home string) (sending int, status string) {
	t.Helper()
	db := openStore(t, home)
	defer db.Close()
	db.QueryRow(`SELECT COUNT(*) FROM delivery_recipients WHERE delivery_id = 1 AND state = 'sending'`).Scan(&sending)
	db.QueryRow(`SELECT status FROM deliveries WHERE id = 1`).Scan(&status)
	return sending, status
}

func ageHeartbeat(t *testing.T, home string, by time.Duration) {
	t.Helper()
	db := openStore(t, home)
	defer db.Close()
	if _, err := db.Exec(`UPDATE deliveries SET heartbeat = heartbeat - ? WHERE id = 1`, by.Milliseconds()); err != nil {
		t.Fatal(err)
	}
}

func reportStates(t *testing.T, home string) map[string]string {
	t.Helper()
	db := openStore(t, home)
	defer db.Close()
	out := map[string]string{}
	err := delivery.Report(context.Background(), db.DB, 1, func(o delivery.Outcomes) error {
		out[o.Email] = o.State
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
