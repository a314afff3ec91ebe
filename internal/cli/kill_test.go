package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/store"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

// TestKillMidDeliveryThenResume kills a real bluemoon process (SIGKILL)
// in the middle of a delivery, at several points — while the server holds
// a whole message and has not answered, while it is at RCPT, and from
// outside at an arbitrary moment — then resumes, and checks against what
// the server received: every recipient exactly once, except those listed
// as unknown, which got it at most once; none skipped.
func TestKillMidDeliveryThenResume(t *testing.T) {
	bin := testbin.Path(t)
	cases := []struct {
		name string
		at   int64
		how  string // data | rcpt | outside
	}{
		{"in DATA at message 7", 7, "data"},
		{"at RCPT of message 60", 60, "rcpt"},
		{"from outside after 150", 150, "outside"},
		{"in DATA at message 233", 233, "data"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			const n = 300
			home, dir := t.TempDir(), t.TempDir()
			var child atomic.Pointer[os.Process]
			var rcpts atomic.Int64
			kill := func() {
				if p := child.Load(); p != nil {
					p.Kill()
				}
			}
			srv := startSMTP(t, func(s *smtptest.Server) {
				s.OnData = func(k int64) {
					if tc.how == "data" && k == tc.at {
						kill()
						time.Sleep(50 * time.Millisecond) // answer only once the client is dead
					}
				}
				s.RcptReply = func(string) error {
					if tc.how == "rcpt" && rcpts.Add(1) == tc.at {
						kill()
						time.Sleep(50 * time.Millisecond)
						return &smtp.SMTPError{Code: 451, Message: "too late"}
					}
					return nil
				}
			})
			addTestAccount(t, home, "news", srv, provider.Limits{Connections: 3, PerConnection: 40})
			var list strings.Builder
			list.WriteString("email,name\n")
			for i := 1; i <= n; i++ {
				fmt.Fprintf(&list, "r%03d@example.com,Name %d\n", i, i)
			}
			lp := writeTemp(t, dir, "list.csv", list.String())
			body := writeTemp(t, dir, "body.txt", "Hello {{.name}}\n")

			cmd := exec.Command(bin, "--home", home, "send", "--account", "news", "--recipients", lp, "--subject", "Hi {{.name}}", "--text", body, "--unattended")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			child.Store(cmd.Process)
			if tc.how == "outside" {
				for srv.Count() < tc.at {
					time.Sleep(time.Millisecond)
				}
				kill()
			}
			err := cmd.Wait()
			if st, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); err == nil || ok && !st.Signaled() {
				t.Fatalf("the child was not killed (it finished first?): %v\n%s", err, out.String())
			}
			// The server may still be reading messages the child wrote
			// (pipelined) before it died: they count as received before.
			if !srv.WaitIdle(30 * time.Second) {
				t.Fatal("the server still has sessions open 30 s after the kill")
			}
			before := perRecipient(srv)
			if len(before) >= n {
				t.Fatalf("killed too late: all %d received", len(before))
			}

			r := runCLI(t, home, "", "deliveries", "resume", "1", "--unattended")
			// 3: finished, but the unknown ones are not known to have it.
			if want := map[bool]int{true: 3, false: 0}[strings.Contains(r.Stderr, "are unknown")]; r.Code != want {
				t.Fatalf("resume: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
			}
			states := reportStates(t, home)
			if len(states) != n {
				t.Fatalf("report has %d rows, want %d", len(states), n)
			}
			after := perRecipient(srv)
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
						t.Errorf("%s: unknown, received %d times (%d before the crash)", addr, after[addr], before[addr])
					}
					if !strings.Contains(r.Stderr, addr) {
						t.Errorf("%s is unknown but resume did not list it", addr)
					}
				default:
					t.Errorf("%s: state %s after resume", addr, st)
				}
			}
			if tc.how != "outside" && len(unknown) == 0 {
				t.Errorf("killed with a message at the server, yet nothing is unknown")
			}
			t.Logf("killed after %d received; %d unknown (%d of them received)", len(before), len(unknown), countReceived(unknown, after))

			// --resend-unknown sends exactly those again, once each.
			if len(unknown) > 0 {
				r = runCLI(t, home, "", "deliveries", "resume", "1", "--resend-unknown")
				if r.Code != 0 {
					t.Fatalf("resume --resend-unknown: exit %d\n%s", r.Code, r.Stderr)
				}
				final := perRecipient(srv)
				for _, a := range unknown {
					if final[a] != after[a]+1 {
						t.Errorf("%s: received %d times after --resend-unknown (was %d)", a, final[a], after[a])
					}
				}
				for addr, st := range reportStates(t, home) {
					if st != "sent" {
						t.Errorf("%s: %s after --resend-unknown", addr, st)
					}
				}
			}
		})
	}
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

func reportStates(t *testing.T, home string) map[string]string {
	t.Helper()
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	err = delivery.Report(context.Background(), db.DB, 1, func(o delivery.Outcomes) error {
		out[o.Email] = o.State
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
