package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// Removing an account refused because a delivery is being prepared
// through it says so, in the page's language — the delivery is in no list
// yet — with what to do and when an abandoned one is cleaned away.
func TestAccountRemovalRefusedForADeliveryBeingPreparedSaysSo(t *testing.T) {
	c := startConsole(t)
	if _, err := c.svc.AddAccount(t.Context(), "relay", core.AccountInput{From: core.Ptr("a@example.com"), SMTPHost: core.Ptr("relay.example"),
		SMTPPort: core.Ptr(587), Auth: core.Ptr("none")}); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), c.home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UnixMilli()
	res, err := db.Exec(`INSERT INTO deliveries(name, account, status, source, columns_json, template_json, created_at, heartbeat)
		VALUES ('big', 'relay', 'preparing', 'big.csv', '[]', '{}', ?, ?)`, now, now)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := res.LastInsertId()
	id := strconv.FormatInt(n, 10)
	for lang, want := range map[string][]string{
		"en": {"Account relay was not removed: delivery " + id + " is being prepared through it", "Wait for the preparation to end",
			"cleaned away 15 minutes after its last sign of life"},
		"ja": {"アカウント relay は削除していません。このアカウントで配信 " + id + " を準備中です", "準備が終わるのを待ち", "最後の動作から 15 分後に片付けられ"},
	} {
		s := c.session()
		s.hc.Transport = langTransport{lang}
		code, page, _ := s.post("/accounts/relay/remove", nil, nil)
		for _, w := range want {
			if code != 409 || !strings.Contains(page, w) {
				t.Errorf("%s: %d, want 409 with %q:\n%s", lang, code, w, page)
			}
		}
	}
	if _, err := c.svc.Account(t.Context(), "relay"); err != nil {
		t.Fatalf("the account was removed: %v", err)
	}
}
