package cli

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// 'account remove' refused because a delivery is being prepared through
// the account says so ('deliveries list' does not show it yet), with what
// to do and when an abandoned one is cleaned away.
func TestAccountRemoveRefusedForADeliveryBeingPreparedSaysSo(t *testing.T) {
	h := newHome(t)
	mustRun(t, h, "account", "add", "relay", "--from", "a@example.com", "--smtp", "relay.example:587", "--auth", "none")
	db, err := store.Open(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	res, err := db.Exec(`INSERT INTO deliveries(name, account, status, source, columns_json, template_json, created_at, heartbeat)
		VALUES ('big', 'relay', 'preparing', 'big.csv', '[]', '{}', ?, ?)`, now, now)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := res.LastInsertId()
	db.Close()
	id := strconv.FormatInt(n, 10)
	r := runCLI(t, h, "", "account", "remove", "relay")
	for _, w := range []string{"delivery " + id + " is being prepared through it", "'bluemoon deliveries list' shows it once that ends",
		"wait for the preparation to end", "cleaned away 15 minutes after its last sign of life"} {
		if r.Code != 2 || !strings.Contains(r.Stderr, w) {
			t.Errorf("exit %d, want 2 saying %q:\n%s", r.Code, w, r.Stderr)
		}
	}
	if l := mustRun(t, h, "deliveries", "list").Stdout; strings.Contains(l, "big") {
		t.Errorf("deliveries list shows the delivery being prepared:\n%s", l)
	}
}
