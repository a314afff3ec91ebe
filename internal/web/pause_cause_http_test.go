package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// The page says why a delivery paused from the cause the engine stored,
// whatever its English reason says.
func TestPauseCauseComesFromTheStoredCause(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	res, err := c.svc.Send(t.Context(), core.SendInput{Account: "relay", List: core.ListInput{Path: writeList(t, 3)},
		Message: core.MessageInput{Subject: "s", Text: "t"}}, core.SendEvents{})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), c.home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A reason whose words name no cause: only the stored code can.
	if _, err := db.Exec(`UPDATE deliveries SET status = 'paused', cause = 'setup', reason = 'ErrorAccessDenied: Access is denied' WHERE id = ?`, res.DeliveryID); err != nil {
		t.Fatal(err)
	}
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	_, page := s.get(fmt.Sprintf("/deliveries/%d", res.DeliveryID))
	if !strings.Contains(page, "メールサーバーが現在のアカウント設定を受け付けません") || !strings.Contains(page, "ErrorAccessDenied") {
		t.Fatalf("the page does not say the stored cause:\n%s", page)
	}
	if _, js := s.get(fmt.Sprintf("/deliveries/%d/progress", res.DeliveryID)); !strings.Contains(js, `"setup"`) {
		t.Fatalf("progress: %s", js)
	}
}
