package web_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gofrs/flock"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// Removing an account whose delivery is not finished is refused, in the
// page's language, naming the delivery and what to do: removed, the
// account's delivery could never be resumed.
func TestAnAccountWithAnUnfinishedDeliveryIsKept(t *testing.T) {
	c := startConsole(t)
	ms := startStandIn(t, provider.Microsoft, "relay@example.org")
	addRelay(t, c, ms, "relay", 0)
	list := filepath.Join(t.TempDir(), "l.csv")
	if err := os.WriteFile(list, []byte("email\na@example.jp\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(c.svc.Home(), "locks"), 0o700)
	held := flock.New(core.AccountLockFile(c.svc.Home(), "relay"))
	if ok, err := held.TryLock(); err != nil || !ok {
		t.Fatal(err)
	}
	// The account is busy: the delivery is stored, left ready.
	res, _ := c.svc.StartDelivery(t.Context(), core.SendInput{Account: "relay", List: core.ListInput{Path: list},
		Message: core.MessageInput{Subject: "お知らせ", Text: "本文\n"}, DailyWait: core.DefaultDailyWait})
	held.Unlock()
	if res == nil || res.DeliveryID == 0 {
		t.Fatal("the delivery was not stored")
	}
	id := strconv.FormatInt(res.DeliveryID, 10)
	for lang, want := range map[string][]string{
		"ja": {"アカウント relay は削除していません。このアカウントの配信 " + id + " が終わっていません", "取り消してから"},
		"en": {"Account relay was not removed: its deliveries " + id + " are not finished", "resume those deliveries to the end or cancel them"},
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
