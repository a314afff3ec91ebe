package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// deliveryScreens seeds what the delivery screens show — a draft at every
// step (a Shift_JIS list with bad rows), a finished delivery with failures,
// one paused for a sign-in — and lists the screens.
func deliveryScreens(t *testing.T, c *console, ms *standIn) []screen {
	t.Helper()
	s := c.session()
	list := sjisList(t, 40, map[int]string{5: "not-an-address", 9: "山田@example.jp", 12: ""})
	_, _, at := s.post("/deliveries/new", nil, map[string]map[string][]byte{"list": {"会員名簿.csv": list}})
	m := draftPath.FindStringSubmatch(at)
	if m == nil {
		t.Fatalf("seeding a draft: at %s", at)
	}
	base := "/drafts/" + m[1]
	if code, page, _ := s.post(base+"/message", map[string]string{"account": "relay", "subject": "{{.氏名}} 様 12月のお知らせ",
		"text": "{{.氏名}} 様\n\nいつもありがとうございます。12月の営業日のお知らせです。\n会員番号: {{.会員番号}}\n",
		"html": "<p>{{.氏名}} 様</p><p>いつもありがとうございます。</p>", "charset": "iso-2022-jp", "use_signature": "on", "action": "next"},
		map[string]map[string][]byte{"attach": {"12月のご案内.pdf": []byte("%PDF-1.4 screens")}}); code != http.StatusOK {
		t.Fatalf("seeding the message: %d\n%s", code, page)
	}

	// A finished delivery, two of whose recipients the server refused.
	ms.smtp.SetUnknownRecipients([]string{"r3@example.com", "r7@example.com"})
	in := core.SendInput{Account: "relay", Name: "11月のお知らせ", List: core.ListInput{Path: writeList(t, 12)},
		Message: core.MessageInput{Subject: "11月のお知らせ", Text: "本文"}}
	done, _ := c.svc.Send(t.Context(), in, core.SendEvents{})
	ms.smtp.SetUnknownRecipients(nil)
	if done == nil {
		t.Fatal("seeding a delivery failed")
	}
	// One paused because the account must sign in again, as the engine
	// stores it when a refreshed token is refused mid-delivery.
	paused, _ := c.svc.Send(t.Context(), core.SendInput{Account: "relay", Name: "12月のお知らせ", List: core.ListInput{Path: writeList(t, 30)},
		Message: core.MessageInput{Subject: "12月のお知らせ", Text: "本文"}}, core.SendEvents{})
	if paused == nil {
		t.Fatal("seeding a second delivery failed")
	}
	db, err := store.Open(context.Background(), c.home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE delivery_recipients SET state = 'pending' WHERE delivery_id = ? AND row > 20`, paused.DeliveryID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE deliveries SET status = 'paused', finished_at = 0, progress = '', reason = 'sign-in needed: the refresh token was refused (AADSTS700082: expired after 90 days unused)' WHERE id = ?`, paused.DeliveryID); err != nil {
		t.Fatal(err)
	}
	return []screen{
		{name: "deliveries", path: "/deliveries"},
		{name: "wizard-start", path: "/deliveries/new"},
		{name: "wizard-list", path: base + "/list"},
		{name: "wizard-message", path: base + "/message"},
		{name: "wizard-preview", path: base + "/preview?row=2"},
		{name: "wizard-check", path: base + "/check"},
		{name: "delivery", path: fmt.Sprintf("/deliveries/%d", done.DeliveryID)},
		{name: "delivery-signin", path: fmt.Sprintf("/deliveries/%d", paused.DeliveryID)},
		{name: "report", path: fmt.Sprintf("/deliveries/%d/recipients", done.DeliveryID)},
		{name: "report-failed", path: fmt.Sprintf("/deliveries/%d/recipients?state=failed", done.DeliveryID)},
	}
}
