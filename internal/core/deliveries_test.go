package core

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/gofrs/flock"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

func startSMTP(t *testing.T, configure func(*smtptest.Server)) *smtptest.Server {
	t.Helper()
	s, err := smtptest.Start(configure)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// addRelay adds account name sending to srv without authentication.
func addRelay(t *testing.T, svc *Service, name, addr string, limits provider.Limits) {
	t.Helper()
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	if _, err := svc.AddAccount(context.Background(), name, AccountInput{From: Ptr("news@example.com"), SMTPHost: &host, SMTPPort: &port,
		Security: Ptr("none"), Auth: Ptr("none"), PerMinute: &limits.PerMinute, PerDay: &limits.PerDay,
		Connections: &limits.Connections, PerConnection: &limits.PerConnection}); err != nil {
		t.Fatal(err)
	}
}

// newsInput is a delivery of "Hello {{.name}}" to n recipients r1… rn.
func newsInput(t *testing.T, acct string, n int) SendInput {
	t.Helper()
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "r%d@example.com,Name %d\n", i, i)
	}
	list := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(list, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return SendInput{Account: acct, List: ListInput{Path: list}, Message: MessageInput{Subject: "News", Text: "Hello {{.name}}\n"}, DailyWait: DefaultDailyWait}
}

// A delivery started in the background returns its ID at once; any
// process reads how it goes from the database until it is done.
func TestStartDeliveryRunsInTheBackgroundAndReportsProgress(t *testing.T) {
	const n = 120
	gate := make(chan struct{})
	var once sync.Once
	srv := startSMTP(t, func(s *smtptest.Server) {
		s.OnData = func(k int64) {
			if k == 60 {
				<-gate // hold message 60 until the test has looked
			}
		}
	})
	t.Cleanup(func() { once.Do(func() { close(gate) }) })
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1})
	res, err := svc.StartDelivery(ctx, newsInput(t, "news", n))
	if err != nil {
		t.Fatal(err)
	}
	if res.DeliveryID == 0 || res.Preflight.Ready != n || res.Outcome != nil {
		t.Fatalf("start %+v", res)
	}
	// Another process (a second Service on the same home) sees it running.
	other := newService(t, Options{Home: svc.Home()})
	// Message 60 is held at the server, so the run cannot end while the
	// test looks: poll until some outcomes are in.
	var p *Progress
	for deadline := time.Now().Add(time.Minute); ; {
		if p, err = other.DeliveryProgress(ctx, res.DeliveryID); err != nil {
			t.Fatal(err)
		}
		if p.Done > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no progress: %+v", p)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if p.Status != delivery.StatusRunning || !p.Live || p.Total != n || p.Rate <= 0 || p.ETA <= 0 {
		t.Fatalf("while running, seen from another process: %+v", p)
	}
	mine, err := svc.DeliveryProgress(ctx, res.DeliveryID)
	if err != nil || !mine.Live || mine.Status != delivery.StatusRunning {
		t.Fatalf("while running, seen from this process: %+v %v", mine, err)
	}
	var busy *BusyError
	if _, err := other.Resume(ctx, res.DeliveryID, ResumeInput{}, SendEvents{Recovered: func(*delivery.Recovery) { t.Error("the other process recovered a live run") }}); !errors.As(err, &busy) ||
		busy.Kind != KindDelivery || exitcode.For(err) != exitcode.Usage {
		t.Fatalf("resume of a running delivery: %v", err)
	}
	once.Do(func() { close(gate) })
	out, err := svc.WaitDelivery(ctx, res.DeliveryID)
	if err != nil || out.Status != delivery.StatusDone || out.Counts.Sent != n {
		t.Fatalf("outcome %+v %v", out, err)
	}
	p, err = other.DeliveryProgress(ctx, res.DeliveryID)
	if err != nil || p.Status != delivery.StatusDone || p.Live || p.Done != n || srv.Count() != n {
		t.Fatalf("after: %+v %v, server got %d", p, err, srv.Count())
	}
}

// A delivery whose process died while running does not read as running.
func TestDeliveryWhoseProcessDiedReadsInterrupted(t *testing.T) {
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1, PerDay: 1})
	res, err := svc.Send(ctx, newsInput(t, "news", 3), SendEvents{})
	var oe *OutcomeError
	if !errors.As(err, &oe) || exitcode.For(err) != exitcode.Paused || res.Outcome.Status != delivery.StatusPaused {
		t.Fatalf("the daily limit should pause it: %v", err)
	}
	// As a killed run leaves it: 'running', a row with the server.
	svc.db.Exec(`UPDATE deliveries SET status = 'running' WHERE id = ?`, res.DeliveryID)
	svc.db.Exec(`UPDATE delivery_recipients SET state = 'sending' WHERE email = 'r2@example.com'`)
	p, err := svc.DeliveryProgress(ctx, res.DeliveryID)
	if err != nil || p.Status != StatusInterrupted || p.Live {
		t.Fatalf("%+v %v", p, err)
	}
	// Resumed, it lists the uncertain row once and goes on.
	if _, err := svc.EditAccount(ctx, "news", AccountInput{PerDay: Ptr(0)}); err != nil {
		t.Fatal(err)
	}
	var unknown []string
	_, err = svc.Resume(ctx, res.DeliveryID, ResumeInput{}, SendEvents{Recovered: func(r *delivery.Recovery) {
		for _, u := range r.Unknown {
			unknown = append(unknown, u.Email)
		}
	}})
	if !errors.As(err, &oe) || exitcode.For(err) != exitcode.Failures || len(unknown) != 1 || unknown[0] != "r2@example.com" {
		t.Fatalf("resume: %v, unknown %v", err, unknown)
	}
	if srv.Count() != 2 {
		t.Fatalf("the server got %d messages, want 2 (r1, r3)", srv.Count())
	}
}

func TestBusyAccountLeavesTheDeliveryReady(t *testing.T) {
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1})
	os.MkdirAll(filepath.Join(svc.Home(), "locks"), 0o700)
	held := flock.New(AccountLockFile(svc.Home(), "news"))
	if ok, err := held.TryLock(); err != nil || !ok {
		t.Fatal(err)
	}
	res, err := svc.StartDelivery(ctx, newsInput(t, "news", 2))
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Kind != KindAccount || busy.DeliveryID != res.DeliveryID || exitcode.For(err) != exitcode.Paused {
		t.Fatalf("want a busy account (exit 5), got %v", err)
	}
	if d, _ := svc.Delivery(ctx, res.DeliveryID); d.Status != delivery.StatusReady || srv.Count() != 0 {
		t.Fatalf("delivery %+v, server %d", d, srv.Count())
	}
	held.Unlock()
	if _, err := svc.StartResume(ctx, res.DeliveryID, ResumeInput{}); err != nil {
		t.Fatal(err)
	}
	if out, err := svc.WaitDelivery(ctx, res.DeliveryID); err != nil || out.Counts.Sent != 2 {
		t.Fatalf("%+v %v", out, err)
	}
}

func TestNotFoundErrors(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	_, err := svc.Delivery(ctx, 99)
	wantNotFound(t, err, KindDelivery)
	_, err = svc.ReportPage(ctx, 99, delivery.ReportQuery{})
	wantNotFound(t, err, KindDelivery)
	_, err = svc.Resume(ctx, 99, ResumeInput{}, SendEvents{})
	wantNotFound(t, err, KindDelivery)
	_, err = svc.PauseDelivery(ctx, 99)
	wantNotFound(t, err, KindDelivery)
	_, err = svc.WaitDelivery(ctx, 99)
	wantNotFound(t, err, KindDelivery)
	_, err = svc.SavedDelivery(ctx, "nope")
	wantNotFound(t, err, KindSavedDelivery)
	wantNotFound(t, svc.RunSaved(ctx, "nope", false, alert.Config{}, SendEvents{}), KindSavedDelivery)
	_, err = svc.Schedule(ctx, "nope")
	wantNotFound(t, err, KindSchedule)
	_, err = svc.Credential(ctx, "nope")
	wantNotFound(t, err, KindCredentials)
	_, err = svc.Send(ctx, newsInput(t, "nobody", 1), SendEvents{})
	wantNotFound(t, err, KindAccount)
}

// Local problems come back before any network check: the server is never
// dialled while the list or template is wrong; a refused sign-in keeps
// nothing.
func TestLocalProblemsBeforeTheNetwork(t *testing.T) {
	srv := startSMTP(t, func(s *smtptest.Server) { s.User, s.Password = "news@example.com", "right" })
	svc := newService(t, Options{})
	ctx := context.Background()
	host, portText, _ := net.SplitHostPort(srv.Addr)
	port, _ := strconv.Atoi(portText)
	if _, err := svc.AddAccount(ctx, "news", AccountInput{From: Ptr("news@example.com"), SMTPHost: &host, SMTPPort: &port,
		Security: Ptr("none"), Auth: Ptr("plain"), Password: Ptr("wrong")}); err != nil {
		t.Fatal(err)
	}
	in := newsInput(t, "news", 2)
	in.Message.Text = "Hello {{.nickname}}\n"
	var pf *delivery.Preflight
	if _, err := svc.Send(ctx, in, SendEvents{Preflight: func(p *delivery.Preflight) { pf = p }}); exitcode.For(err) != exitcode.Usage || !strings.Contains(err.Error(), "nickname") {
		t.Fatalf("template error: %v", err)
	}
	if srv.Logins() != 0 {
		t.Fatal("the server was dialled before the template was found wrong")
	}
	in = newsInput(t, "news", 2)
	_, err := svc.Send(ctx, in, SendEvents{Preflight: func(p *delivery.Preflight) { pf = p }})
	var check *SignInCheckError
	if !errors.As(err, &check) || check.Account != "news" || pf == nil || pf.Ready != 2 {
		t.Fatalf("wrong password: %v (preflight %+v)", err, pf)
	}
	if ds, _ := svc.Deliveries(ctx); len(ds) != 0 || srv.Count() != 0 {
		t.Fatalf("a delivery refused at its sign-in was kept: %d", len(ds))
	}
	wantField(t, errOf(svc.Send(ctx, SendInput{Account: "news", List: ListInput{Path: "x.csv", Delimiter: "pipe"}}, SendEvents{})), "delimiter")
	wantField(t, errOf(svc.Send(ctx, SendInput{Account: "news", List: ListInput{Path: "x.csv"}}, SendEvents{})), "subject")
}

func TestReportPagesFilterAndSearch(t *testing.T) {
	srv := startSMTP(t, func(s *smtptest.Server) {
		s.RcptReply = func(rcpt string) error {
			if strings.HasSuffix(rcpt, "0@example.com") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
			}
			return nil
		}
	})
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 2})
	res, err := svc.Send(ctx, newsInput(t, "news", 250), SendEvents{})
	if exitcode.For(err) != exitcode.Failures || res.Outcome.Counts.Failed != 25 {
		t.Fatalf("%v %+v", err, res)
	}
	var rows []string
	q := delivery.ReportQuery{Limit: 100}
	for {
		p, err := svc.ReportPage(ctx, res.DeliveryID, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Rows {
			rows = append(rows, r.Email)
		}
		if p.Next == 0 {
			break
		}
		q.After = p.Next
	}
	if len(rows) != 250 || rows[0] != "r1@example.com" || rows[249] != "r250@example.com" {
		t.Fatalf("%d rows, first %s", len(rows), rows[0])
	}
	p, err := svc.ReportPage(ctx, res.DeliveryID, delivery.ReportQuery{States: []string{"failed"}, Limit: 10})
	if err != nil || p.Total != 25 || len(p.Rows) != 10 || p.Rows[0].Email != "r10@example.com" || !strings.Contains(p.Rows[0].Reply, "550") {
		t.Fatalf("failed page: %+v %v", p, err)
	}
	p, err = svc.ReportPage(ctx, res.DeliveryID, delivery.ReportQuery{Search: "R12", States: []string{"sent"}})
	if err != nil || p.Total != 10 { // r12, r121…r129 (r120 failed)
		t.Fatalf("search: %+v %v", p, err)
	}
}

// An account whose deliveries are not finished stays: removed, they could
// never be resumed nor their last recipients sent. The refusal names the
// unfinished ones only (a done delivery does not count); once they are
// cancelled the account goes.
func TestAccountWithUnfinishedDeliveriesIsNotRemoved(t *testing.T) {
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1})
	done, err := svc.StartDelivery(ctx, newsInput(t, "news", 2))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := svc.WaitDelivery(ctx, done.DeliveryID); err != nil || out.Status != delivery.StatusDone {
		t.Fatalf("%+v %v", out, err)
	}
	os.MkdirAll(filepath.Join(svc.Home(), "locks"), 0o700)
	held := flock.New(AccountLockFile(svc.Home(), "news"))
	if ok, err := held.TryLock(); err != nil || !ok {
		t.Fatal(err)
	}
	left, _ := svc.StartDelivery(ctx, newsInput(t, "news", 2)) // busy: stored, left ready
	held.Unlock()
	if left == nil || left.DeliveryID == 0 {
		t.Fatal("the second delivery was not stored")
	}
	err = svc.RemoveAccount(ctx, "news")
	var inUse *InUseError
	if !errors.As(err, &inUse) || inUse.Kind != KindAccount || !slices.Equal(inUse.By, []string{strconv.FormatInt(left.DeliveryID, 10)}) || exitcode.For(err) != exitcode.Usage {
		t.Fatalf("want the account refused for delivery %d only (exit 2), got %v", left.DeliveryID, err)
	}
	if _, err := svc.Account(ctx, "news"); err != nil {
		t.Fatalf("the account is gone after the refusal: %v", err)
	}
	if _, err := svc.CancelDelivery(ctx, left.DeliveryID); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveAccount(ctx, "news"); err != nil {
		t.Fatalf("with its deliveries finished or cancelled: %v", err)
	}
	if _, err := svc.Account(ctx, "news"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the account is still there: %v", err)
	}
}

// A delivery still being prepared (its preflight reading a long list
// in another process) keeps its account too: removed under it, the
// delivery would be stored for an account that no longer exists. One
// whose preflight was killed long ago (see delivery.RemoveAbandoned)
// does not.
func TestAccountWithADeliveryBeingPreparedIsNotRemoved(t *testing.T) {
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1})
	now := time.Now()
	insert := func(heartbeat time.Time) int64 {
		t.Helper()
		res, err := svc.db.ExecContext(ctx, `INSERT INTO deliveries(name, account, status, source, columns_json, template_json, created_at, heartbeat)
			VALUES ('big', 'news', 'preparing', 'big.csv', '[]', '{}', ?, ?)`, heartbeat.UnixMilli(), heartbeat.UnixMilli())
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		return id
	}
	insert(now.Add(-delivery.AbandonedAfter - time.Minute)) // a killed preflight's
	preparing := insert(now)

	err := svc.RemoveAccount(ctx, "news")
	var inUse *InUseError
	if !errors.As(err, &inUse) || !slices.Equal(inUse.By, []string{strconv.FormatInt(preparing, 10)}) {
		t.Fatalf("want the account refused for delivery %d, being prepared, only; got %v", preparing, err)
	}
	if _, err := svc.Account(ctx, "news"); err != nil {
		t.Fatalf("the account is gone after the refusal: %v", err)
	}
	// The preflight gave up (a refused list): its delivery goes, and so may the account.
	if _, err := svc.db.ExecContext(ctx, `DELETE FROM deliveries WHERE id = ?`, preparing); err != nil {
		t.Fatal(err)
	}
	if err := svc.RemoveAccount(ctx, "news"); err != nil {
		t.Fatalf("with only an abandoned preflight left: %v", err)
	}
}

// An account removed after a send read it but before its delivery was
// stored (RemoveAccount then sees no delivery through it, and removes it)
// sends nothing: the send finds it gone once the delivery is stored, and
// drops the delivery. Here the removal is made as the preflight ends: from
// the removal's side, the same as one just before the delivery was stored.
func TestAccountRemovedAsASendIsPreparedSendsNothing(t *testing.T) {
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1})
	ev := SendEvents{Preflight: func(*delivery.Preflight) {
		if _, err := svc.db.ExecContext(ctx, `DELETE FROM accounts WHERE name = 'news'`); err != nil {
			t.Error(err)
		}
	}}
	_, err := svc.Send(ctx, newsInput(t, "news", 3), ev)
	wantNotFound(t, err, KindAccount)
	if srv.Count() != 0 {
		t.Fatalf("%d messages sent through a removed account", srv.Count())
	}
	if list, err := svc.Deliveries(ctx); err != nil || len(list) != 0 {
		t.Fatalf("deliveries left: %d (%v); want none", len(list), err)
	}
}
