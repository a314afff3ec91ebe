package core

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
)

// saveMonthly stores saved delivery "monthly" of three recipients through
// relay account "news" on srv, with sendArgs.
func saveMonthly(t *testing.T, svc *Service, srv *smtptest.Server, sendArgs ...string) *saved.Delivery {
	t.Helper()
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1})
	in := newsInput(t, "news", 3)
	body := filepath.Join(t.TempDir(), "body.txt")
	writeFile(t, body, "Hello {{.name}}\n")
	d := &saved.Delivery{Name: "monthly", Account: "news", Recipients: in.List.Path, Subject: "News", Text: body, SendArgs: sendArgs}
	if err := svc.SaveDelivery(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	return d
}

// A saved delivery is send's command line: what it stores is what send
// would have been given, flags after "--" included.
func TestSavedDeliveryRunsAsSendWould(t *testing.T) {
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	ctx := context.Background()
	d := saveMonthly(t, svc, srv, "--name", "monthly news", "--daily-wait", "1h", "--no-chunking")
	got, err := ParseSendArgs(d.Args()[1:])
	if err != nil || got.Name != "monthly news" || got.DailyWait != time.Hour || !got.NoChunking || got.List.Path != d.Recipients ||
		got.Message.TextFile != d.Text || got.List.EmailColumn != "email" || got.Message.Charset != "utf-8" {
		t.Fatalf("parsed %+v %v", got, err)
	}
	bad := *d
	bad.Name, bad.SendArgs = "bad", []string{"--no-such-flag"}
	wantField(t, svc.SaveDelivery(ctx, &bad), "send_args")
	bad.SendArgs, bad.Alert = nil, alert.Config{Email: "ops@example.org", EmailAccount: "typo"}
	if fe := wantField(t, svc.SaveDelivery(ctx, &bad), "notify_account"); fe.Code != CodeNotFound || !errors.Is(fe, ErrNotFound) {
		t.Fatalf("%+v", fe)
	}

	var started int64
	err = svc.RunSaved(ctx, "monthly", false, alert.Config{}, SendEvents{Started: func(id int64, _ int) { started = id }})
	if err != nil || started == 0 || srv.Count() != 3 {
		t.Fatalf("run: %v, started %d, server %d", err, started, srv.Count())
	}
	if s, _ := svc.Delivery(ctx, started); s.Name != "monthly news" || !s.NoChunking || s.Status != delivery.StatusDone {
		t.Fatalf("delivery %+v", s)
	}
	// The preflight is a dry run: nothing more is sent or stored.
	var dry bool
	if err := svc.RunSaved(ctx, "monthly", true, alert.Config{}, SendEvents{Done: func(r *SendResult) { dry = r.DryRun }}); err != nil || !dry || srv.Count() != 3 {
		t.Fatalf("preflight: %v, dry %v, server %d", err, dry, srv.Count())
	}
	if ds, _ := svc.Deliveries(ctx); len(ds) != 1 {
		t.Fatalf("%d deliveries after a preflight", len(ds))
	}
	if exitcode.For(svc.RunSaved(ctx, "monthly", false, alert.Config{Email: "x"}, SendEvents{})) != exitcode.Usage {
		t.Fatal("a bad alert config was accepted")
	}
}

// An attachments folder given as a send flag of a saved delivery
// (--attach-dir after "--") is stored absolute, like its other paths: a
// timer runs it from another folder, where a relative one would point at
// the wrong files (or none).
func TestSavedDeliveryKeepsAttachDirAbsolute(t *testing.T) {
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1})
	lists, work := t.TempDir(), t.TempDir()
	list := filepath.Join(lists, "list.csv")
	writeFile(t, list, "email,file\nr1@example.com,a.txt\n")
	if err := os.Mkdir(filepath.Join(work, "files"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(work, "files", "a.txt"), "invoice-for-r1")
	body := filepath.Join(lists, "body.txt")
	writeFile(t, body, "Hello\n")
	t.Chdir(work)
	d := &saved.Delivery{Name: "invoices", Account: "news", Recipients: list, Subject: "Invoice", Text: body,
		SendArgs: []string{"--attach-column", "file", "--attach-dir", "files"}}
	if err := svc.SaveDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(work, "files")
	if got, _ := svc.SavedDelivery(ctx, "invoices"); !slices.Equal(got.SendArgs, []string{"--attach-column", "file", "--attach-dir", want}) {
		t.Fatalf("stored send args %q, want --attach-dir %s", got.SendArgs, want)
	}
	t.Chdir(t.TempDir())
	if err := svc.RunSaved(ctx, "invoices", false, alert.Config{}, SendEvents{}); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Data), base64.StdEncoding.EncodeToString([]byte("invoice-for-r1"))) {
		t.Fatalf("%d message(s); the attachment from %s was not in it", len(msgs), want)
	}
}
