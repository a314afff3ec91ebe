package automatic

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/apisrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// apiHome is a data home whose account "news" sends --via graph or
// gmail-api: the provider's sign-in stand-in, its API stand-in checking
// that server's tokens, the credential file imported with the API's
// address, and the account signed in through the real binary.
type apiHome struct {
	home string
	auth *oauthsrv.Server
	api  *apisrv.Server
}

func newAPIHome(t *testing.T, via account.Via, opts apisrv.Options, signIn bool) *apiHome {
	t.Helper()
	t.Setenv(secrets.KeyringEnv, "off")
	kind := via.Provider()
	auth, err := oauthsrv.New(oauthsrv.Options{Flavor: kind, Email: mailbox})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close() })
	opts.Flavor = apisrv.Graph
	if via == account.ViaGmailAPI {
		opts.Flavor = apisrv.Gmail
	}
	opts.CheckToken = auth.ValidateAccessToken
	api, err := apisrv.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { api.Close() })
	h := &apiHome{home: t.TempDir(), auth: auth, api: api}
	st, err := secrets.Open(h.home)
	if err != nil {
		t.Fatal(err)
	}
	cfg := auth.Config("")
	cfg.APIEndpoint = api.URL()
	preset, _ := provider.SMTPPresetFor(kind)
	withDB(t, h.home, func(db *store.DB) {
		ctx := context.Background()
		if err := (&credstore.Store{DB: db.DB, Secrets: st}).Import(ctx, "org", cfg, credstore.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		limits := provider.APILimits(kind)
		limits.PerMinute = 0
		a := &account.Account{Name: "news", From: mailbox, SMTPHost: preset.Host, SMTPPort: preset.Port,
			Security: account.Security(preset.Security), Auth: account.AuthXOAuth2, Credentials: "org", Via: via, Limits: limits}
		if err := (&account.Store{DB: db.DB}).Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	})
	if signIn {
		h.login(t)
	}
	return h
}

// login runs `bluemoon login news` with the test playing the browser.
func (h *apiHome) login(t *testing.T) { loginBinary(t, h.home, "news") }

func writeNewsList(t *testing.T, n int) (list, body string) {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "r%03d@example.com,Name %d\n", i, i)
	}
	list, body = filepath.Join(dir, "list.csv"), filepath.Join(dir, "body.txt")
	if err := os.WriteFile(list, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(body, []byte("Hello {{.name}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return list, body
}

func apiReceived(api *apisrv.Server) map[string]int {
	out := map[string]int{}
	for _, m := range api.Messages() {
		for _, to := range m.To {
			out[to]++
		}
	}
	return out
}

func deliveryStates(t *testing.T, home string) map[string]delivery.Outcomes {
	t.Helper()
	out := map[string]delivery.Outcomes{}
	withDB(t, home, func(db *store.DB) {
		if err := delivery.Report(context.Background(), db.DB, 1, func(o delivery.Outcomes) error {
			out[o.Email] = o
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
	return out
}

// kill -9 in the middle of a delivery through each API — while the service
// holds a message it has taken and not yet answered, and from outside at an
// arbitrary moment — then resume: every recipient gets the message exactly
// once, except those listed as unknown, which got it at most once; none is
// skipped; --resend-unknown sends exactly those again. The same guarantees
// as over SMTP (internal/cli/kill_test.go).
func TestAPIKillMidDeliveryThenResume(t *testing.T) {
	cases := []struct {
		via account.Via
		at  int64
		how string // accept | outside
	}{
		{account.ViaGraph, 7, "accept"},
		{account.ViaGraph, 150, "outside"},
		{account.ViaGmailAPI, 60, "accept"},
		{account.ViaGmailAPI, 233, "accept"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/%s-%d", tc.via, tc.how, tc.at), func(t *testing.T) {
			const n = 300
			var child atomic.Pointer[os.Process]
			kill := func() {
				if p := child.Load(); p != nil {
					p.Kill()
				}
			}
			// (Throttling is left to internal/delivery's tests: a deferred
			// message would hold the resume for the CLI's one-minute retry.)
			h := newAPIHome(t, tc.via, apisrv.Options{
				OnAccept: func(k int64) {
					if tc.how == "accept" && k == tc.at {
						kill()
						time.Sleep(50 * time.Millisecond) // answer only once the client is dead
					}
				},
			}, true)
			list, body := writeNewsList(t, n)
			cmd := exec.Command(binary(t), "--home", h.home, "send", "--account", "news", "--recipients", list,
				"--subject", "Hi {{.name}}", "--text", body, "--unattended")
			cmd.Env, _ = env(t)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			child.Store(cmd.Process)
			if tc.how == "outside" {
				for h.api.Accepted() < tc.at {
					time.Sleep(time.Millisecond)
				}
				kill()
			}
			err := cmd.Wait()
			if st, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); err == nil || ok && !st.Signaled() {
				t.Fatalf("the child was not killed (it finished first?): %v\n%s", err, out.String())
			}
			if !h.api.WaitIdle(30 * time.Second) {
				t.Fatal("the service still serves requests 30 s after the kill")
			}
			before := apiReceived(h.api)
			if len(before) >= n {
				t.Fatalf("killed too late: all %d received", len(before))
			}

			r := run(t, h.home, "deliveries", "resume", "1", "--unattended")
			if want := map[bool]int{true: 3, false: 0}[strings.Contains(r.Stderr, "are unknown")]; r.Code != want {
				t.Fatalf("resume: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
			}
			states := deliveryStates(t, h.home)
			if len(states) != n {
				t.Fatalf("report has %d rows, want %d", len(states), n)
			}
			after := apiReceived(h.api)
			var unknown []string
			for addr, o := range states {
				switch o.State {
				case "sent":
					if after[addr] != 1 {
						t.Errorf("%s: sent, but received %d times", addr, after[addr])
					}
					if o.Via != string(tc.via) {
						t.Errorf("%s: sent via %q", addr, o.Via)
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
					t.Errorf("%s: state %s after resume (%s)", addr, o.State, o.Reply)
				}
			}
			if tc.how == "accept" && len(unknown) == 0 {
				t.Errorf("killed with a message at the service, yet nothing is unknown")
			}
			t.Logf("killed after %d received; %d unknown", len(before), len(unknown))

			if len(unknown) > 0 {
				r = run(t, h.home, "deliveries", "resume", "1", "--resend-unknown")
				if r.Code != 0 {
					t.Fatalf("resume --resend-unknown: exit %d\n%s", r.Code, r.Stderr)
				}
				final := apiReceived(h.api)
				for _, a := range unknown {
					if final[a] != after[a]+1 {
						t.Errorf("%s: received %d times after --resend-unknown (was %d)", a, final[a], after[a])
					}
				}
				for addr, o := range deliveryStates(t, h.home) {
					if o.State != "sent" {
						t.Errorf("%s: %s after --resend-unknown", addr, o.State)
					}
				}
			}
		})
	}
}

// Graph takes 4 MB per request: a merge whose message would not fit is
// refused at preflight, naming the size and the limit, before any request.
func TestAPIPreflightRefusesWhatGraphCannotTake(t *testing.T) {
	h := newAPIHome(t, account.ViaGraph, apisrv.Options{}, true)
	list, body := writeNewsList(t, 3)
	att := filepath.Join(t.TempDir(), "big.pdf")
	if err := os.WriteFile(att, bytes.Repeat([]byte("%PDF-1.7 bluemoon "), 2_400_000/18), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, h.home, "send", "--account", "news", "--recipients", list, "--subject", "Hi", "--text", body,
		"--attach", att, "--unattended")
	if r.Code != 2 || !strings.Contains(r.Stderr, fmt.Sprint(provider.GraphMaxMIME)) || h.api.Requests() != 0 {
		t.Fatalf("exit %d, %d requests\n%s", r.Code, h.api.Requests(), r.Stderr)
	}
	// The same merge fits the Gmail API (35 MB, media upload).
	g := newAPIHome(t, account.ViaGmailAPI, apisrv.Options{}, true)
	r = run(t, g.home, "send", "--account", "news", "--recipients", list, "--subject", "Hi", "--text", body,
		"--attach", att, "--unattended")
	if r.Code != 0 || g.api.Accepted() != 3 {
		t.Fatalf("gmail-api: exit %d, accepted %d\n%s", r.Code, g.api.Accepted(), r.Stderr)
	}
	for _, m := range g.api.Messages() {
		if m.Upload != "media" {
			t.Errorf("a %d-byte message went as %q, want the media upload", len(m.Data), m.Upload)
		}
	}
}

// An account signed in for SMTP and then switched to --via graph: its
// sign-in never consented to Graph's Mail.Send, so the delivery stops
// before sending (exit 4) with the permission named; a new sign-in (which
// now asks for Mail.Send) fixes it, and a test send then goes through Graph.
func TestAPISwitchToGraphNeedsConsentForMailSend(t *testing.T) {
	h := newAPIHome(t, account.ViaGraph, apisrv.Options{}, false)
	mustRun(t, h.home, "account", "edit", "news", "--via", "smtp")
	h.login(t) // SMTP.Send only
	r := mustRun(t, h.home, "account", "edit", "news", "--via", "graph")
	if !strings.Contains(r.Stderr, "login news") {
		t.Errorf("switching to graph does not mention a new sign-in:\n%s", r.Stderr)
	}
	if show := mustRun(t, h.home, "account", "show", "news"); !strings.Contains(show.Stdout, "via:") || !strings.Contains(show.Stdout, "graph") {
		t.Errorf("account show:\n%s", show.Stdout)
	}
	list, body := writeNewsList(t, 5)
	r = run(t, h.home, "send", "--account", "news", "--recipients", list, "--subject", "Hi", "--text", body, "--unattended")
	if r.Code != 4 || !strings.Contains(r.Stderr, "Mail.Send (https://graph.microsoft.com/Mail.Send)") ||
		!strings.Contains(r.Stderr, "AADSTS65001") || h.api.Requests() != 0 {
		t.Fatalf("exit %d, %d requests\n%s", r.Code, h.api.Requests(), r.Stderr)
	}
	h.login(t)
	r = mustRun(t, h.home, "test-send", "news", "--to", "me@example.com")
	if !strings.Contains(r.Stdout, "202 Accepted by Microsoft Graph") || h.api.Accepted() != 1 {
		t.Fatalf("test send after the new sign-in: %s", r.Stdout)
	}
	// auth status shows the token the account sends with, apart from the
	// sign-in's own SMTP one.
	st := mustRun(t, h.home, "auth", "status", "news")
	if !strings.Contains(st.Stdout, "SMTP token") || !regexp.MustCompile(`graph token\s+expires `).MatchString(st.Stdout) {
		t.Errorf("auth status of a graph account:\n%s", st.Stdout)
	}
	// --via gmail-api needs Google credentials.
	if r := run(t, h.home, "account", "edit", "news", "--via", "gmail-api"); r.Code != 2 || !strings.Contains(r.Stderr, "google") {
		t.Errorf("--via gmail-api on a Microsoft account: exit %d\n%s", r.Code, r.Stderr)
	}
}
