package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

func TestInspectListFindsTheColumnAndCounts(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	if _, err := svc.Suppress(ctx, "c@example.com", "asked"); err != nil {
		t.Fatal(err)
	}
	list := filepath.Join(t.TempDir(), "l.csv")
	writeFile(t, list, "氏名,メールアドレス\nA,a@example.com\nB,b@\nC,c@example.com\nA2,A@example.com\n")
	sum, err := svc.InspectList(ctx, ListInput{Path: list})
	if err != nil {
		t.Fatal(err)
	}
	if sum.EmailColumn != "メールアドレス" || sum.Rows != 4 || sum.Valid != 1 || sum.Suppressed != 1 || sum.Duplicates != 1 || sum.ProblemRows != 1 || sum.Problems[0].Row != 3 {
		t.Fatalf("summary %+v", sum)
	}
	_, err = svc.InspectList(ctx, ListInput{Path: filepath.Join(t.TempDir(), "missing.csv")})
	wantField(t, err, "recipients")
}

func TestCheckTemplateNamesThePart(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", "127.0.0.1:25", provider.Limits{})
	in := newsInput(t, "news", 2)
	if err := svc.CheckTemplate(ctx, "news", in.List, in.Message); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		msg   MessageInput
		field string
	}{
		{MessageInput{Subject: "{{if .name}}", Text: "x"}, "subject"},
		{MessageInput{Subject: "s", Text: "Hello\n{{.name}"}, "text"},
		{MessageInput{Subject: "s", HTML: "<p>{{end}}</p>"}, "html"},
		{MessageInput{Subject: "s", Text: "x", HTML: "<p>\n\n{{.nope}}</p>"}, "html"},
		{MessageInput{Subject: "s", Text: "x", AttachColumn: "file"}, "attach_column"},
	} {
		fe := wantField(t, svc.CheckTemplate(ctx, "news", in.List, c.msg), c.field)
		if fe.Code != CodeTemplate {
			t.Errorf("%s: code %q", c.field, fe.Code)
		}
		var te *merge.TemplateError
		if c.field != "attach_column" && !errors.As(fe, &te) {
			t.Errorf("%s: no *merge.TemplateError in %v", c.field, fe)
		}
		if strings.Contains(c.msg.HTML, "nope") && (te.Line != 3 || te.Field != "nope" || te.Kind != merge.KindUnknownField) {
			t.Errorf("unknown field: line %d field %q kind %q", te.Line, te.Field, te.Kind)
		}
	}
}

func TestCheckDeliveryIsThePreflightTable(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", "127.0.0.1:25", provider.Limits{PerMinute: 30, PerDay: 100, Connections: 1})
	in := newsInput(t, "news", 150)
	writeFile(t, in.List.Path, strings.Replace(mustRead(t, in.List.Path), "r7@example.com", "r7@", 1))
	c, err := svc.CheckDelivery(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if c.Preflight.Ready != 149 || c.Preflight.ProblemCount != 1 || c.Preflight.Problems[0].Row != 8 || c.Preflight.DeliveryID != 0 {
		t.Fatalf("preflight %+v", c.Preflight)
	}
	if c.Estimate.Today != 100 || c.Estimate.Days != 1 || c.Limits.PerDay != 100 {
		t.Fatalf("estimate %+v limits %+v", c.Estimate, c.Limits)
	}
	if ds, _ := svc.Deliveries(ctx); len(ds) != 0 {
		t.Fatalf("a check stored %d deliveries", len(ds))
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPreviewStepsAndDecodes(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	in := newsInput(t, "news", 3)
	writeFile(t, in.List.Path, "email,name\nr1@example.com,山田\nbad,B\nr3@example.com,佐藤\n")
	p, err := svc.Preview(ctx, PreviewInput{From: "news@example.com", List: in.List, Message: in.Message, Row: 2})
	if err != nil {
		t.Fatal(err)
	}
	if p.Prev != 0 || p.Next != 3 || p.Decoded.Text != "Hello 山田\n" || p.Decoded.To != "r1@example.com" {
		t.Fatalf("row 2: prev %d next %d text %q to %q", p.Prev, p.Next, p.Decoded.Text, p.Decoded.To)
	}
	p, err = svc.Preview(ctx, PreviewInput{From: "news@example.com", List: in.List, Message: in.Message, Row: 4})
	if err != nil {
		t.Fatal(err)
	}
	if p.Prev != 3 || p.Next != 0 {
		t.Fatalf("row 4: prev %d next %d", p.Prev, p.Next)
	}
}

// Recipients the server refused are sent again on the user's word, once
// the cause is fixed; the others are not sent twice.
func TestResendFailed(t *testing.T) {
	var refuse atomic.Bool
	refuse.Store(true)
	srv := startSMTP(t, func(s *smtptest.Server) {
		s.RcptReply = func(rcpt string) error {
			if refuse.Load() && (rcpt == "r2@example.com" || rcpt == "r4@example.com") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			return nil
		}
	})
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1})
	res, err := svc.Send(ctx, newsInput(t, "news", 5), SendEvents{})
	var oe *OutcomeError
	if !errors.As(err, &oe) || oe.Outcome.Counts.Failed != 2 || srv.Count() != 3 {
		t.Fatalf("first run: %v, server got %d", err, srv.Count())
	}
	refuse.Store(false)
	r, err := svc.Resume(ctx, res.DeliveryID, ResumeInput{ResendFailed: true}, SendEvents{})
	if err != nil || r.ResentFailed != 2 || r.Outcome.Counts.Sent != 5 || srv.Count() != 5 {
		t.Fatalf("resend: %v, resent %d, server got %d", err, r.ResentFailed, srv.Count())
	}
	var csv strings.Builder
	if err := svc.ReportCSV(ctx, res.DeliveryID, &csv); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), "3,r2@example.com,sent,2,") {
		t.Fatalf("report:\n%s", csv.String())
	}
}

// The CSV report neutralises what a spreadsheet would run; JSON is exact.
func TestReportCSVNeutralisesFormulas(t *testing.T) {
	srv := startSMTP(t, nil)
	svc := newService(t, Options{})
	ctx := context.Background()
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1})
	in := newsInput(t, "news", 1)
	writeFile(t, in.List.Path, "email,name\n=cmd@example.com,x\n")
	res, err := svc.Send(ctx, in, SendEvents{})
	if err != nil {
		t.Fatal(err)
	}
	var csv, js strings.Builder
	if err := svc.ReportCSV(ctx, res.DeliveryID, &csv); err != nil {
		t.Fatal(err)
	}
	if err := svc.ReportJSON(ctx, res.DeliveryID, &js); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(csv.String(), "2,'=cmd@example.com,sent") || !strings.Contains(js.String(), `"email":"=cmd@example.com"`) {
		t.Fatalf("csv:\n%s\njson:\n%s", csv.String(), js.String())
	}
}
