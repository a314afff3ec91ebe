package delivery

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/apisrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/signin"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

func startAPI(t testing.TB, via account.Via, opts apisrv.Options) *signin.APIAccount {
	t.Helper()
	t.Setenv(secrets.KeyringEnv, "off")
	a, err := signin.StartAPI(context.Background(), t.TempDir(), via, "acct", "sender@example.com", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// apiOpts runs at the API preset's concurrency, without its pace.
func apiOpts(via account.Via) Options {
	o := fastOpts()
	o.Limits = provider.APILimits(via.Provider())
	o.Limits.PerMinute, o.Limits.PerDay = 0, 0
	return o
}

// A whole merge of 1,000 recipients through each API while the service
// throttles (429 and 503 with Retry-After, Gmail's 403 rate limit), fails
// one recipient (400) and fails after taking one message (500): nothing is
// lost, nothing doubled. The throttled messages are deferred and sent
// later, the 400 fails only its recipient, the 500 is unknown (the service
// has it) and not sent again; every outcome records the way it went.
func TestAPIDeliveryUnderThrottling(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 messages through HTTP")
	}
	const n = 1000
	for _, via := range []account.Via{account.ViaGraph, account.ViaGmailAPI} {
		t.Run(string(via), func(t *testing.T) {
			a := startAPI(t, via, apisrv.Options{
				BadRecipients: []string{"user500@example.com"},
				Inject: func(k int64) apisrv.Fault {
					switch {
					case k >= 100 && k < 104, k == 650:
						return apisrv.Throttle
					case k >= 400 && k < 403:
						return apisrv.Unavailable
					case k == 700 || k == 701:
						return apisrv.RateLimit403
					case k == 900:
						return apisrv.Internal
					}
					return apisrv.None
				},
			})
			db := openDB(t)
			list := writeList(t, "list.csv", listOf(n))
			pf, out, err := Deliver(context.Background(), db.DB, plan(list), TransportDialer(a.Config), apiOpts(via))
			if err != nil {
				t.Fatal(err)
			}
			if pf.Ready != n || out.Status != StatusDone {
				t.Fatalf("ready %d, status %s (%s)", pf.Ready, out.Status, out.Reason)
			}
			got := map[string]int{}
			for _, m := range a.API.Messages() {
				for _, to := range m.To {
					got[to]++
				}
			}
			var unknown []string
			for _, o := range reportOf(t, db, out.ID) {
				switch {
				case o.Email == "user500@example.com":
					if o.State != stateFailed || !strings.Contains(o.Reply, "400") || got[o.Email] != 0 {
						t.Errorf("%s: %s %q, received %d times", o.Email, o.State, o.Reply, got[o.Email])
					}
				case o.State == stateUnknown:
					unknown = append(unknown, o.Email)
					if got[o.Email] != 1 {
						t.Errorf("%s: unknown, received %d times", o.Email, got[o.Email])
					}
				case o.State != stateSent || got[o.Email] != 1:
					t.Errorf("%s: %s after %d attempt(s) (%s), received %d times", o.Email, o.State, o.Attempts, o.Reply, got[o.Email])
				}
				if o.Via != string(via) {
					t.Errorf("%s: via %q, want %q", o.Email, o.Via, via)
				}
			}
			refused := a.API.Refused()
			if len(unknown) != 1 || refused[429] < 2 || refused[503] < 1 || refused[500] != 1 {
				t.Errorf("unknown %v; refusals %v", unknown, refused)
			}
			if via == account.ViaGmailAPI && refused[403] < 1 {
				t.Errorf("no 403 rate limit was given: %v", refused)
			}
			t.Logf("%d requests, refusals %v, %d unknown", a.API.Requests(), refused, len(unknown))
		})
	}
}

// The provider's daily limit pauses the run (the message put back, not
// failed), with the time it may go on, as the account's own limit does.
func TestAPIDailyLimitPauses(t *testing.T) {
	for _, via := range []account.Via{account.ViaGraph, account.ViaGmailAPI} {
		t.Run(string(via), func(t *testing.T) {
			a := startAPI(t, via, apisrv.Options{RetryAfter: 3 * time.Hour, Inject: func(k int64) apisrv.Fault {
				if k > 5 {
					return apisrv.Daily
				}
				return apisrv.None
			}})
			db := openDB(t)
			_, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(20))), TransportDialer(a.Config), apiOpts(via))
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != StatusPaused || out.Cause != CauseDailyLimit || !strings.Contains(out.Reason, "daily sending limit") || out.ResumeAfter.Before(time.Now().Add(2*time.Hour)) {
				t.Fatalf("status %s, cause %q, reason %q, resume after %v", out.Status, out.Cause, out.Reason, out.ResumeAfter)
			}
			wantStoredCause(t, db.DB, out.ID, CauseDailyLimit)
			c := out.Counts
			if c.Sent != 5 || c.Failed != 0 || c.Unknown != 0 || c.Pending != 15 || a.API.Accepted() != 5 {
				t.Fatalf("counts %+v, accepted %d", c, a.API.Accepted())
			}
			// The console's report pages say the way too.
			page, err := QueryReport(context.Background(), db.DB, out.ID, ReportQuery{States: []string{stateSent}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Rows {
				if r.Via != string(via) {
					t.Errorf("report page: %s sent via %q, want %q", r.Email, r.Via, via)
				}
			}
			if len(page.Rows) != 5 {
				t.Errorf("report page: %d sent rows, want 5", len(page.Rows))
			}
		})
	}
}

// Settings problems pause the run with the reason, failing no recipient;
// a token the API refuses is refreshed once, then the run waits for a
// sign-in.
func TestAPIAccountProblemsPause(t *testing.T) {
	cases := []struct {
		via    account.Via
		fault  apisrv.Fault
		signIn bool
		reason string
	}{
		{account.ViaGraph, apisrv.AccessDenied, false, "ErrorAccessDenied"},
		{account.ViaGraph, apisrv.NotEnabled, false, "MailboxNotEnabledForRESTAPI"},
		{account.ViaGmailAPI, apisrv.AccessDenied, false, "domainPolicy"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.via, "/", tc.reason), func(t *testing.T) {
			a := startAPI(t, tc.via, apisrv.Options{})
			a.API.SetFault(tc.fault)
			db := openDB(t)
			_, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(10))), TransportDialer(a.Config), apiOpts(tc.via))
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != StatusPaused || out.SignIn != tc.signIn || !strings.Contains(out.Reason, tc.reason) || out.Counts.Failed != 0 || out.Counts.Pending != 10 {
				t.Fatalf("status %s sign-in %v reason %q counts %+v", out.Status, out.SignIn, out.Reason, out.Counts)
			}
			wantStoredCause(t, db.DB, out.ID, CauseSetup)
		})
	}
	t.Run("revoked", func(t *testing.T) {
		a := startAPI(t, account.ViaGraph, apisrv.Options{})
		if _, err := a.Tokens.AccessToken(context.Background()); err != nil {
			t.Fatal(err)
		}
		a.Auth.RevokeUser(a.From) // the cached token still looks valid
		db := openDB(t)
		_, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(10))), TransportDialer(a.Config), apiOpts(account.ViaGraph))
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != StatusPaused || !out.SignIn || out.Counts.Failed != 0 || out.Counts.Pending != 10 || a.API.Accepted() != 0 {
			t.Fatalf("status %s sign-in %v reason %q counts %+v", out.Status, out.SignIn, out.Reason, out.Counts)
		}
		wantStoredCause(t, db.DB, out.ID, CauseSignIn)
	})
}

// A token the service stops taking mid-way (expired by its clock while it
// still looks valid here) is refused to every session at once. Each opens
// again asking for a refresh; they were refused the same token, so the
// account's token is refreshed once, not once a session, and every
// message goes.
func TestAPISessionsRefusedTogetherRefreshOnce(t *testing.T) {
	a := startAPI(t, account.ViaGraph, apisrv.Options{})
	if _, err := a.Tokens.AccessToken(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.Auth.ExpireAccessTokens()
	before := a.Auth.RefreshCount()
	db := openDB(t)
	o := apiOpts(account.ViaGraph)
	if o.Limits.Connections < 2 {
		t.Fatalf("the Graph preset has %d connections; the test needs several", o.Limits.Connections)
	}
	_, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(40))), TransportDialer(a.Config), o)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != StatusDone || out.Counts.Sent != 40 || a.API.Accepted() != 40 {
		t.Fatalf("status %s reason %q counts %+v, accepted %d", out.Status, out.Reason, out.Counts, a.API.Accepted())
	}
	if n := a.Auth.RefreshCount() - before; n != 1 {
		t.Fatalf("%d refreshes for %d sessions refused the same token, want 1", n, o.Limits.Connections)
	}
}
