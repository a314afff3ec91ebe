package delivery

import (
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/account"
)

// An account stored without limits (before they were stored) gets its
// provider's, the provider known from its SMTP host as everywhere else:
// in any case, with a trailing dot, and for every submission host of the
// provider, not only its preset.
func TestLimitsOfAnAccountWithoutLimitsFollowTheHostsProvider(t *testing.T) {
	const (
		google    = "Google (2,000 a day, 3 connections)"
		microsoft = "Microsoft (10,000 a day, 3 connections)"
		generic   = "generic (no daily limit, 4 connections)"
	)
	want := map[string]struct{ perDay, connections int }{
		google:    {2000, 3},
		microsoft: {10000, 3},
		generic:   {0, 4},
	}
	for _, tc := range []struct{ host, provider string }{
		{"smtp.gmail.com", google},
		{"SMTP.Gmail.com.", google},
		{"smtp-relay.gmail.com", google},
		{"smtp.office365.com", microsoft},
		{"Smtp.Office365.Com.", microsoft},
		{"smtp-mail.outlook.com", microsoft},
		{"smtp.office365.us", microsoft},
		{"smtp.partner.outlook.cn", microsoft},
		{"mail.example.jp", generic},
		{"gmail.com", generic},
		{"smtp.gmail.com.example.jp", generic},
	} {
		acct := &account.Account{Name: "sales", SMTPHost: tc.host, SMTPPort: 587}
		l := LimitsOf(acct)
		if w := want[tc.provider]; l.PerDay != w.perDay || l.Connections != w.connections {
			t.Errorf("host %q: %d a day, %d connections; want %s", tc.host, l.PerDay, l.Connections, tc.provider)
		}
	}
}
