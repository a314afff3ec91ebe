package transport_test

import (
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// Where SMTP is switched off for the mailbox, the advice names both fixes:
// the administrator's setting, and sending through the provider's API.
func TestSMTPAuthOffNamesTheAPI(t *testing.T) {
	cases := []struct {
		code                 int
		enh, text, challenge string
		want                 []string
	}{
		{535, "5.7.139", "Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.", "",
			[]string{"enable authenticated SMTP", "--via graph", "Mail.Send"}},
		{534, "5.7.14", "Please log in with your web browser and then try again. Learn more at https://support.google.com/mail/?p=WebLoginRequired sandbox.gsmtp", "",
			[]string{"--via gmail-api", "administrator"}},
		{535, "5.7.8", "Username and Password not accepted. sandbox.gsmtp", `{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`,
			[]string{"Sign in again", "--via gmail-api"}},
	}
	for _, c := range cases {
		e := transport.NewReplyError("smtp.example:587", "AUTH", c.code, c.enh, c.text, c.challenge)
		if e.Class != transport.Auth {
			t.Errorf("%d %s: class %s", c.code, c.enh, e.Class)
		}
		for _, w := range c.want {
			if !strings.Contains(e.Error(), w) {
				t.Errorf("%d %s: %q lacks %q", c.code, c.enh, e.Error(), w)
			}
		}
	}
}
