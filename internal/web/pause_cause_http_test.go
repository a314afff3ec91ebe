package web_test

import (
	"fmt"
	"strings"
	"testing"
)

// The page says why a delivery paused from the cause the engine stored,
// whatever its English reason says.
func TestPauseCauseComesFromTheStoredCause(t *testing.T) {
	c := startConsole(t)
	// A reason whose words name no cause: only the stored code can.
	id := pausedDelivery(t, c, `status = 'paused', cause = 'setup', reason = 'ErrorAccessDenied: Access is denied'`)
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	_, page := s.get(fmt.Sprintf("/deliveries/%d", id))
	if !strings.Contains(page, "メールサーバーが現在のアカウント設定を受け付けません") || !strings.Contains(page, "ErrorAccessDenied") {
		t.Fatalf("the page does not say the stored cause:\n%s", page)
	}
	if _, js := s.get(fmt.Sprintf("/deliveries/%d/progress", id)); !strings.Contains(js, `"setup"`) {
		t.Fatalf("progress: %s", js)
	}
}
