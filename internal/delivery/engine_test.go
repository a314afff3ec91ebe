package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/text/encoding/japanese"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

func openDB(t testing.TB) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func startServer(t testing.TB, configure func(*smtptest.Server)) *smtptest.Server {
	t.Helper()
	s, err := smtptest.Start(configure)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dialer(s *smtptest.Server) Dialer {
	return func(ctx context.Context, refresh bool) (Mailer, error) {
		return smtptest.Dial(s.Addr, s.User, s.Password)
	}
}

func writeList(t testing.TB, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func listOf(n int) string {
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "user%d@example.com,User %d\n", i, i)
	}
	return b.String()
}

func plan(list string) Plan {
	return Plan{
		Account: "acct",
		Spec:    merge.Spec{Subject: "Hello {{.name}}", Text: "Dear {{.name}},\nthis is for {{.email}}.\n", From: "sender@example.com"},
		List:    list,
	}
}

func fastOpts() Options {
	return Options{
		Limits:       provider.Limits{Connections: 2, PerConnection: 7},
		RetryBase:    10 * time.Millisecond,
		RetryMax:     40 * time.Millisecond,
		PollInterval: 20 * time.Millisecond,
	}
}

// byRecipient indexes what the server received by recipient and fails the
// test on a recipient received twice.
func byRecipient(t *testing.T, msgs []smtptest.Received) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, m := range msgs {
		for _, to := range m.To {
			if _, dup := out[to]; dup {
				t.Errorf("%s received twice", to)
			}
			out[to] = m.Data
		}
	}
	return out
}

func reportOf(t *testing.T, db *store.DB, id int64) map[string]Outcomes {
	t.Helper()
	out := map[string]Outcomes{}
	if err := Report(context.Background(), db.DB, id, func(o Outcomes) error {
		out[fmt.Sprintf("%d:%s", o.Row, o.Email)] = o
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestDeliversEveryRecipientOnce(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, func(s *smtptest.Server) { s.User, s.Password = "sender@example.com", "pw" })
	list := writeList(t, "list.csv", listOf(40)+"USER3@example.com,Again\n")
	pf, out, err := Deliver(context.Background(), db.DB, plan(list), dialer(srv), fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if pf.Rows != 41 || pf.Ready != 40 || pf.Duplicates != 1 || out.ExitCode() != 0 || out.Counts.Sent != 40 {
		t.Fatalf("preflight %+v outcome %+v", pf, out)
	}
	got := byRecipient(t, srv.Messages())
	if len(got) != 40 {
		t.Fatalf("server got %d recipients", len(got))
	}
	m, _ := mail.ReadMessage(bytes.NewReader(got["user7@example.com"]))
	body, _ := io.ReadAll(m.Body)
	if m.Header.Get("Subject") != "Hello User 7" || !strings.Contains(string(body), "Dear User 7,\r\nthis is for user7@example.com.") {
		t.Fatalf("message to user7: %q %q", m.Header.Get("Subject"), body)
	}
	// 40 messages, 7 per connection, 2 workers: at least 6 logins.
	if srv.Logins() < 6 {
		t.Fatalf("%d logins: messages per connection not applied", srv.Logins())
	}
	rep := reportOf(t, db, pf.DeliveryID)
	if len(rep) != 40 || rep["8:user7@example.com"].State != "sent" || !strings.HasPrefix(rep["8:user7@example.com"].Reply, "250") {
		t.Fatalf("report %d rows, row 8: %+v", len(rep), rep["8:user7@example.com"])
	}
}

func TestShiftJISListInBothCharsets(t *testing.T) {
	names := []string{"山田太郎", "佐藤花子", "髙橋一郎", "ｶﾀｶﾅ", "ﾊﾞﾅﾅ"}
	var b strings.Builder
	b.WriteString("email,氏名\r\n")
	for i, n := range names {
		fmt.Fprintf(&b, "jp%d@example.jp,%s\r\n", i, n)
	}
	sjis, err := japanese.ShiftJIS.NewEncoder().String(b.String())
	if err != nil {
		t.Fatal(err)
	}
	list := writeList(t, "名簿.csv", sjis)
	for _, cs := range []string{"iso-2022-jp", "utf-8"} {
		t.Run(cs, func(t *testing.T) {
			db := openDB(t)
			srv := startServer(t, nil)
			p := plan(list)
			p.Spec = merge.Spec{Subject: "{{.氏名}}様へのお知らせ", Text: "{{.氏名}}様\nいつもありがとうございます。\n", Charset: cs, From: "info@example.jp", FromName: "株式会社ブルームーン"}
			pf, out, err := Deliver(context.Background(), db.DB, p, dialer(srv), fastOpts())
			if err != nil || out.Counts.Sent != len(names) {
				t.Fatalf("err %v preflight %+v outcome %+v", err, pf, out)
			}
			if pf.Encoding != "shift_jis" {
				t.Fatalf("list read as %s", pf.Encoding)
			}
			got := byRecipient(t, srv.Messages())
			for i, n := range names {
				want := cs
				if strings.ContainsRune(n, 0xFF85) && cs == "iso-2022-jp" {
					n = map[string]string{"ｶﾀｶﾅ": "カタカナ", "ﾊﾞﾅﾅ": "バナナ"}[n] // ISO-2022-JP has no half-width katakana: widened
				}
				if n == "髙橋一郎" {
					// 髙 is not in JIS X 0208 (only in Microsoft's additions):
					// that message goes as UTF-8, and preflight says so.
					want = "utf-8"
				}
				subj, body, charset, from := decode(t, got[fmt.Sprintf("jp%d@example.jp", i)])
				if subj != n+"様へのお知らせ" || body != n+"様\r\nいつもありがとうございます。\r\n" || charset != want || from != "株式会社ブルームーン" {
					t.Errorf("jp%d: subject %q body %q charset %q from %q", i, subj, body, charset, from)
				}
			}
			if cs == "iso-2022-jp" && (pf.UTF8Fallbacks != 1 || len(pf.Notes) != 1 || pf.Notes[0].Row != 4 || !strings.Contains(pf.Notes[0].Message, "'髙' (U+9AD9)")) {
				t.Errorf("preflight notes %d %+v", pf.UTF8Fallbacks, pf.Notes)
			}
		})
	}
}

// decode reads a single-part message as a mail reader would.
func decode(t *testing.T, raw []byte) (subject, body, charset, fromName string) {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	dec := mime.WordDecoder{CharsetReader: func(cs string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(cs, "iso-2022-jp") {
			return japanese.ISO2022JP.NewDecoder().Reader(r), nil
		}
		return r, nil
	}}
	subject, _ = dec.DecodeHeader(m.Header.Get("Subject"))
	fromName, _ = dec.DecodeHeader(m.Header.Get("From"))
	if i := strings.Index(fromName, " <"); i >= 0 {
		fromName = fromName[:i]
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	charset = strings.ToLower(params["charset"])
	data, _ := io.ReadAll(m.Body)
	if m.Header.Get("Content-Transfer-Encoding") == "base64" {
		data, _ = base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(data)))
	}
	if charset == "iso-2022-jp" {
		for _, c := range raw {
			if c >= 0x80 {
				t.Fatalf("8-bit byte in an ISO-2022-JP message")
			}
		}
		data, _ = japanese.ISO2022JP.NewDecoder().Bytes(data)
	}
	return subject, string(data), charset, fromName
}

func TestBadRowsReportedBeforeAnythingIsSent(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	list := writeList(t, "l.csv", "email,name,file\n"+
		"a@example.com,Ann,\n"+
		"bad-address,Bob,\n"+
		"c@example.com,,\n"+ // name is printed by the template
		"d@example.com,Dan,missing.pdf\n"+
		"e@example.com,Eve,\n")
	p := plan(list)
	p.Spec.AttachColumn = "file"
	_, _, err := Deliver(context.Background(), db.DB, p, dialer(srv), fastOpts())
	var pe *ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("err %v, want problems", err)
	}
	var lines []string
	for _, pr := range pe.P.Problems {
		lines = append(lines, pr.String())
	}
	want := []string{"row 3, email:", "row 4, name: is empty", "row 5, file: attachment", "not found"}
	joined := strings.Join(lines, "\n")
	for _, w := range want {
		if !strings.Contains(joined, w) {
			t.Errorf("problems %q lack %q", joined, w)
		}
	}
	if pe.P.ProblemCount != 3 || srv.Count() != 0 {
		t.Fatalf("%d problems, %d sent", pe.P.ProblemCount, srv.Count())
	}
	if ds, _ := List(context.Background(), db.DB); len(ds) != 0 {
		t.Fatalf("a refused delivery was kept: %+v", ds[0])
	}

	// With --skip-invalid the others go, and the report lists the skipped.
	p.SkipInvalid = true
	pf, out, err := Deliver(context.Background(), db.DB, p, dialer(srv), fastOpts())
	if err != nil || out.Counts.Sent != 2 || out.Counts.Skipped != 3 || out.ExitCode() != 0 {
		t.Fatalf("err %v outcome %+v", err, out)
	}
	rep := reportOf(t, db, pf.DeliveryID)
	if rep["3:bad-address"].State != "skipped" || !strings.Contains(rep["5:d@example.com"].Reply, "missing.pdf") || rep["2:a@example.com"].State != "sent" {
		t.Fatalf("report %+v", rep)
	}
}

func TestTemporaryFailuresDeferredThenRetried(t *testing.T) {
	db := openDB(t)
	var mu sync.Mutex
	tries := map[string]int{}
	srv := startServer(t, func(s *smtptest.Server) {
		s.RcptReply = func(rcpt string) error {
			mu.Lock()
			defer mu.Unlock()
			tries[rcpt]++
			switch {
			case rcpt == "user2@example.com" && tries[rcpt] <= 2:
				return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Try again later"}
			case rcpt == "user3@example.com":
				return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "Busy"}
			case rcpt == "user4@example.com":
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
			}
			return nil
		}
	})
	opts := fastOpts()
	opts.MaxAttempts = 4
	pf, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(6))), dialer(srv), opts)
	if err != nil {
		t.Fatal(err)
	}
	rep := reportOf(t, db, pf.DeliveryID)
	if r := rep["3:user2@example.com"]; r.State != "sent" || r.Attempts != 3 {
		t.Errorf("user2 (451 twice): %+v", r)
	}
	if r := rep["4:user3@example.com"]; r.State != "failed" || r.Attempts != 4 || !strings.Contains(r.Reply, "gave up after 4 attempts") {
		t.Errorf("user3 (always 421): %+v", r)
	}
	if r := rep["5:user4@example.com"]; r.State != "failed" || r.Attempts != 1 || !strings.Contains(r.Reply, "550") {
		t.Errorf("user4 (550): %+v", r)
	}
	if out.Counts.Sent != 4 || out.Counts.Failed != 2 || out.ExitCode() != 3 {
		t.Errorf("outcome %+v exit %d", out, out.ExitCode())
	}
	countsMatchJournal(t, db.DB, pf.DeliveryID, out.Counts)
	got := byRecipient(t, srv.Messages())
	for _, ok := range []string{"user1", "user2", "user5", "user6"} {
		if got[ok+"@example.com"] == nil {
			t.Errorf("%s not received", ok)
		}
	}
}

func TestDailyLimitCountedAcrossDeliveries(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	opts := fastOpts()
	opts.Limits.PerDay = 5
	_, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "a.csv", listOf(3))), dialer(srv), opts)
	if err != nil || out.Counts.Sent != 3 {
		t.Fatalf("first: %v %+v", err, out)
	}
	// A new engine (as after a restart) reads the send log: 2 left today.
	pf, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "b.csv", listOf(4))), dialer(srv), opts)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != StatusPaused || out.Counts.Sent != 2 || out.Counts.Pending != 2 || out.ExitCode() != 5 ||
		!strings.Contains(out.Reason, "5 messages per 24 hours") || out.ResumeAfter.Before(time.Now().Add(23*time.Hour)) {
		t.Fatalf("second: %+v", out)
	}
	s, _ := Get(context.Background(), db.DB, pf.DeliveryID)
	if s.Status != StatusPaused || s.ResumeAfter.IsZero() {
		t.Fatalf("stored %+v", s)
	}
	if srv.Count() != 5 {
		t.Fatalf("server got %d", srv.Count())
	}
}

type signInErr struct{}

func (signInErr) Error() string     { return "the refresh token was revoked: sign in again" }
func (signInErr) NeedsSignIn() bool { return true }

type authErr struct{}

func (authErr) Error() string     { return "535 5.7.3 Authentication unsuccessful" }
func (authErr) AuthFailure() bool { return true }
func (authErr) Temporary() bool   { return false }

func TestAuthFailureRefreshesOnceThenPausesForSignIn(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	var mu sync.Mutex
	var calls []bool
	dial := func(ctx context.Context, refresh bool) (Mailer, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, refresh)
		if !refresh {
			return nil, authErr{}
		}
		return nil, signInErr{}
	}
	opts := fastOpts()
	opts.Limits.Connections = 1
	_, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(3))), dial, opts)
	if err != nil {
		t.Fatal(err)
	}
	if out.ExitCode() != 4 || !out.SignIn || !strings.Contains(out.Reason, "sign in again") || out.Counts.Pending != 3 || srv.Count() != 0 {
		t.Fatalf("outcome %+v", out)
	}
	if len(calls) != 2 || calls[0] || !calls[1] {
		t.Fatalf("dial calls (refresh flags) %v, want [false true]", calls)
	}
}

func TestPauseFromAnotherProcessAndResume(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	opts := fastOpts()
	opts.Limits.PerMinute = 600 // one every 100ms: slow enough to pause midway
	pf, err := Prepare(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(30))))
	if err != nil {
		t.Fatal(err)
	}
	e := &Engine{DB: db.DB, Dial: dialer(srv), Opts: opts}
	opts.Progress = func(p Progress) {
		if p.Sent >= 3 {
			RequestPause(context.Background(), db.DB, pf.DeliveryID)
		}
	}
	e.Opts = opts
	out, err := e.Run(context.Background(), pf.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != StatusPaused || out.ExitCode() != 5 || out.Counts.Sent < 3 || out.Counts.Sent >= 30 || out.Counts.Sending != 0 {
		t.Fatalf("outcome %+v", out)
	}
	if int(srv.Count()) != out.Counts.Sent {
		t.Fatalf("server got %d, journal says %d sent", srv.Count(), out.Counts.Sent)
	}
	e.Opts.Progress = nil
	e.Opts.Limits.PerMinute = 0
	out, err = e.Run(context.Background(), pf.DeliveryID)
	if err != nil || out.Status != StatusDone || out.Counts.Sent != 30 {
		t.Fatalf("resumed: %v %+v", err, out)
	}
	byRecipient(t, srv.Messages())
	if srv.Count() != 30 {
		t.Fatalf("server got %d", srv.Count())
	}
}

func TestSuppressedNeverMailed(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	sup := &recipients.Suppressions{DB: db.DB}
	if _, err := sup.Add(context.Background(), "User2@Example.com", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	acct := &account.Account{Name: "acct", From: "desk@example.org", FromName: "Desk", Limits: provider.Limits{Connections: 1}}
	pf, out, err := DeliverFrom(context.Background(), db.DB, acct, writeList(t, "l.csv", listOf(3)), plan("").Spec, dialer(srv), Options{})
	if err != nil || pf.Suppressed != 1 || out.Counts.Sent != 2 || out.Counts.Suppressed != 1 || out.ExitCode() != 0 {
		t.Fatalf("%v %+v %+v", err, pf, out)
	}
	got := byRecipient(t, srv.Messages())
	if got["user2@example.com"] != nil {
		t.Fatal("a suppressed address was mailed")
	}
	if m := srv.Messages()[0]; m.From != "desk@example.org" || !strings.Contains(string(m.Data), "From: Desk <desk@example.org>") {
		t.Fatalf("sender: %s\n%s", m.From, m.Data)
	}
}

func TestAttachmentsCommonAndPerRecipient(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "invoice-1.pdf"), []byte("%PDF one"), 0o600)
	list := filepath.Join(dir, "l.csv")
	os.WriteFile(list, []byte("email,name,file\na@example.com,Ann,invoice-1.pdf\nb@example.com,Bob,\n"), 0o600)
	p := plan(list)
	p.Spec.AttachColumn = "file"
	p.Attachments = []merge.Attachment{{Filename: "terms.txt", ContentType: "text/plain", Data: []byte("terms")}}
	p.MaxBytes = 100000
	_, out, err := Deliver(context.Background(), db.DB, p, dialer(srv), fastOpts())
	if err != nil || out.Counts.Sent != 2 {
		t.Fatalf("%v %+v", err, out)
	}
	got := byRecipient(t, srv.Messages())
	if files := attachments(t, got["a@example.com"]); files["terms.txt"] != "terms" || files["invoice-1.pdf"] != "%PDF one" || len(files) != 2 {
		t.Fatalf("Ann's attachments %q", files)
	}
	if files := attachments(t, got["b@example.com"]); files["terms.txt"] != "terms" || len(files) != 1 {
		t.Fatalf("Bob's attachments %q", files)
	}
	// Over the size limit: refused in preflight, naming the row.
	p.MaxBytes = 200
	_, _, err = Deliver(context.Background(), db.DB, p, dialer(srv), fastOpts())
	if err == nil || !strings.Contains(fmt.Sprint(err.(*ProblemsError).P.Problems), "over the account's limit of 200") {
		t.Fatalf("err %v", err)
	}
}

func attachments(t *testing.T, raw []byte) map[string]string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	mr := multipart.NewReader(m.Body, params["boundary"])
	out := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.FileName() != "" {
			data, _ := io.ReadAll(p) // multipart decodes base64? no: quoted-printable only
			dec, _ := base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(data)))
			out[p.FileName()] = string(dec)
		}
	}
}

type brokenMidData struct{ Mailer }

type uncertainErr struct{}

func (uncertainErr) Error() string     { return "connection reset during DATA" }
func (uncertainErr) Uncertain() bool   { return true }
func (uncertainErr) Temporary() bool   { return true }
func (uncertainErr) AuthFailure() bool { return false }

func (b brokenMidData) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	if to[0] == "user2@example.com" {
		return "", uncertainErr{}
	}
	return b.Mailer.Send(ctx, from, to, msg)
}

func TestConnectionLostDuringDataIsUnknownNotRetried(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	dial := func(ctx context.Context, refresh bool) (Mailer, error) {
		m, err := smtptest.Dial(srv.Addr, "", "")
		return brokenMidData{m}, err
	}
	pf, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(3))), dial, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if out.Counts.Sent != 2 || out.Counts.Unknown != 1 || out.Counts.Deferred != 0 {
		t.Fatalf("outcome %+v", out)
	}
	if r := reportOf(t, db, pf.DeliveryID)["3:user2@example.com"]; r.State != "unknown" || r.Attempts != 1 {
		t.Fatalf("user2: %+v", r)
	}
}

func TestCtrlCPausesAfterInFlightMessages(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	opts := fastOpts()
	opts.Limits.PerMinute = 1200 // one every 50ms
	pf, err := Prepare(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(40))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts.Progress = func(p Progress) {
		if p.Sent >= 2 {
			cancel() // what the first Ctrl-C does
		}
	}
	out, err := (&Engine{DB: db.DB, Dial: dialer(srv), Opts: opts}).Run(ctx, pf.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != StatusPaused || out.Reason != "interrupted" || out.ExitCode() != 5 || out.Counts.Sending != 0 || out.Counts.Sent >= 40 {
		t.Fatalf("outcome %+v", out)
	}
	if int(srv.Count()) != out.Counts.Sent || out.Counts.Sent+out.Counts.Pending != 40 {
		t.Fatalf("server got %d; journal: %+v", srv.Count(), out.Counts)
	}
}

// A Ctrl-C that comes once every recipient has its outcome stops nothing:
// the delivery is done (exit 0), not paused with nothing left to resume.
// The Ctrl-C here comes as the server accepts the last message, before
// its outcome is recorded.
func TestCtrlCAfterTheLastOutcomeLeavesTheDeliveryDone(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	opts := fastOpts()
	opts.Limits.Connections = 1
	pf, err := Prepare(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(3))))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dial := func(ctx context.Context, refresh bool) (Mailer, error) {
		c, err := smtptest.Dial(srv.Addr, "", "")
		if err != nil {
			return nil, err
		}
		return ctrlCAt{c, "user3@example.com", cancel}, nil
	}
	out, err := (&Engine{DB: db.DB, Dial: dial, Opts: opts}).Run(ctx, pf.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != StatusDone || out.Reason != "" || out.ExitCode() != 0 || out.Counts.Sent != 3 || srv.Count() != 3 {
		t.Fatalf("outcome %+v, server %d", out, srv.Count())
	}
	if d, err := Get(context.Background(), db.DB, pf.DeliveryID); err != nil || d.Status != StatusDone {
		t.Fatalf("stored %+v %v", d, err)
	}
}

// ctrlCAt is a Mailer that presses Ctrl-C (cancels the run's context) once
// the server has taken the message for to.
type ctrlCAt struct {
	*smtptest.Client
	to     string
	cancel context.CancelFunc
}

func (c ctrlCAt) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	reply, err := c.Client.Send(ctx, from, to, msg)
	if err == nil && to[0] == c.to {
		c.cancel()
		time.Sleep(50 * time.Millisecond) // the run hears the stop before it records the outcome
	}
	return reply, err
}

// batchClient is a BatchMailer over the test client that makes some
// messages fail as a pipelined session would: user3's connection breaks
// after its content (uncertain), user5's batch breaks before it is handed
// over (it and the rest of its batch are NotSent, once), user7 is refused.
type batchClient struct {
	*smtptest.Client
	brokeOnce *atomic.Bool
	sizes     *[]int
	mu        *sync.Mutex
}

type notSentErr struct{}

func (notSentErr) Error() string     { return "not sent: the connection failed first" }
func (notSentErr) NotSent() bool     { return true }
func (notSentErr) Temporary() bool   { return true }
func (notSentErr) AuthFailure() bool { return false }

func (b batchClient) SendBatch(ctx context.Context, from string, items []Item) {
	b.mu.Lock()
	*b.sizes = append(*b.sizes, len(items))
	b.mu.Unlock()
	broken := false
	for i := range items {
		it := &items[i]
		switch {
		case broken:
			it.Err = notSentErr{}
		case it.To[0] == "user3@example.com":
			it.Err = uncertainErr{}
		case it.To[0] == "user5@example.com" && b.brokeOnce.CompareAndSwap(false, true):
			it.Err, broken = notSentErr{}, true
		case it.To[0] == "user7@example.com":
			it.Err = errors.New("550 5.1.1 no such user")
		default:
			it.Reply, it.Err = b.Send(ctx, from, it.To, it.Msg)
		}
	}
}

// With a BatchMailer each row still gets exactly its own outcome: messages
// a broken batch never handed over are sent again (once each), the
// uncertain one is unknown and not retried, the refused one failed.
func TestBatchMailerOutcomesPerMessage(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	var broke atomic.Bool
	var sizes []int
	var mu sync.Mutex
	dial := func(ctx context.Context, refresh bool) (Mailer, error) {
		c, err := smtptest.Dial(srv.Addr, "", "")
		if err != nil {
			return nil, err
		}
		return batchClient{c, &broke, &sizes, &mu}, nil
	}
	opts := fastOpts()
	opts.Limits.PerConnection = 0
	pf, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(30))), dial, opts)
	if err != nil {
		t.Fatal(err)
	}
	if out.Counts.Sent != 28 || out.Counts.Unknown != 1 || out.Counts.Failed != 1 || out.Counts.Deferred != 0 {
		t.Fatalf("outcome %+v", out)
	}
	countsMatchJournal(t, db.DB, pf.DeliveryID, out.Counts)
	got := byRecipient(t, srv.Messages()) // fails on a recipient received twice
	if len(got) != 28 || got["user3@example.com"] != nil || got["user7@example.com"] != nil || got["user5@example.com"] == nil {
		t.Fatalf("server received %d messages", len(got))
	}
	rep := reportOf(t, db, pf.DeliveryID)
	if r := rep["4:user3@example.com"]; r.State != "unknown" || r.Attempts != 1 {
		t.Errorf("user3: %+v", r)
	}
	if r := rep["6:user5@example.com"]; r.State != "sent" || r.Attempts != 1 {
		t.Errorf("user5: %+v", r)
	}
	if r := rep["8:user7@example.com"]; r.State != "failed" || !strings.Contains(r.Reply, "550") {
		t.Errorf("user7: %+v", r)
	}
	mu.Lock()
	t.Logf("batch sizes: %v", sizes)
	mu.Unlock()
}

type settingsErr struct{ authErr }

func (settingsErr) SettingsProblem() bool { return true }

// A refusal only a setting fixes (535 5.7.139) pauses at once: no token
// refresh, no sign-in asked for, nothing sent.
func TestSettingsProblemPausesWithoutRefreshOrSignIn(t *testing.T) {
	db := openDB(t)
	srv := startServer(t, nil)
	var mu sync.Mutex
	var calls []bool
	dial := func(ctx context.Context, refresh bool) (Mailer, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, refresh)
		return nil, settingsErr{}
	}
	opts := fastOpts()
	opts.Limits.Connections = 1
	_, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(3))), dial, opts)
	if err != nil {
		t.Fatal(err)
	}
	if out.SignIn || out.Status != StatusPaused || !strings.Contains(out.Reason, "as set up") || out.Counts.Pending != 3 || srv.Count() != 0 {
		t.Fatalf("outcome %+v", out)
	}
	if len(calls) != 1 || calls[0] {
		t.Fatalf("dial calls (refresh flags) %v, want [false]", calls)
	}
}
