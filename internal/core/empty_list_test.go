package core

import (
	"context"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// An empty list is refused before anything is stored, in words a form can
// say (the console's send button, a hand-made POST): a *FieldError of the
// recipients field, exit code 2 — for a delivery started in the
// background and for the check step alike.
func TestEmptyListIsRefusedAsNoRecipients(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, Options{})
	srv := startSMTP(t, nil)
	addRelay(t, svc, "news", srv.Addr, provider.Limits{Connections: 1})
	in := newsInput(t, "news", 0)
	_, err := svc.StartDelivery(ctx, in)
	fe := wantField(t, err, "recipients")
	if fe.Code != CodeNoRecipients || exitcode.For(err) != exitcode.Usage || !strings.Contains(err.Error(), in.List.Path) {
		t.Fatalf("start: code %q, exit %d: %v", fe.Code, exitcode.For(err), err)
	}
	_, err = svc.CheckDelivery(ctx, in)
	if fe := wantField(t, err, "recipients"); fe.Code != CodeNoRecipients {
		t.Fatalf("check: %v", err)
	}
	if ds, err := svc.Deliveries(ctx); err != nil || len(ds) != 0 {
		t.Fatalf("deliveries after the refusals: %v, %v", ds, err)
	}
	if srv.Count() != 0 {
		t.Fatalf("the server got %d message(s)", srv.Count())
	}
}
