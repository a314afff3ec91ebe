package web

import (
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

// A row whose message rendering stopped at the size or time limit is said
// in the page's language, like every other coded problem: not the core's
// English.
func TestPreflightLimitProblemsInJapanese(t *testing.T) {
	cs, err := loadCatalogs(assets)
	if err != nil {
		t.Fatal(err)
	}
	v := &view{cat: cs["ja"], Lang: "ja"}
	for _, c := range []struct {
		p    delivery.Problem
		want string
	}{
		{delivery.Problem{Code: delivery.CodeTooLarge, Want: 25 << 20, Message: "text body: too large: it stopped at the message size limit of 26214400 bytes"},
			"メッセージがアカウントの上限 25 MB を超えます"},
		{delivery.Problem{Code: delivery.CodeTooLarge, Got: 30 << 20, Want: 25 << 20, Message: "the message would be 31457280 bytes"},
			"メッセージが 30 MB になり、アカウントの上限 25 MB を超えます"},
		{delivery.Problem{Code: delivery.CodeTooSlow, Message: "text body: filling it in took too long"},
			"差し込みに時間がかかりすぎました"},
	} {
		got := v.PreflightText(c.p)
		if !strings.Contains(got, c.want) || strings.Contains(got, c.p.Message) {
			t.Errorf("%s: %q, want it to say %q", c.p.Code, got, c.want)
		}
	}
}
