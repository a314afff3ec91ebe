package recipients

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
)

// CheckAddress accepts one bare address (no display name, no angle
// brackets, no list) whose domain has a dot: what a mailbox provider will
// take in RCPT TO. The error says what is wrong in words a user can act on.
func CheckAddress(s string) error {
	if s == "" {
		return errors.New("the address is empty")
	}
	if strings.ContainsAny(s, ",;") {
		return fmt.Errorf("%q holds more than one address (one per row)", s)
	}
	if strings.ContainsAny(s, "<> \t\"") {
		return fmt.Errorf("%q is not a bare address (write only name@example.com, no display name)", s)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return fmt.Errorf("%q is not a valid e-mail address", s)
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if i := strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 }); i >= 0 {
		// Such an address needs SMTPUTF8 end to end, which bluemoon does
		// not speak yet: better said at preflight than refused mid-delivery.
		if i > at {
			return fmt.Errorf("%q: the domain has non-ASCII characters; write it in its xn-- (punycode) form", s)
		}
		return fmt.Errorf("%q has non-ASCII characters before the @ (an internationalised address), which bluemoon cannot send to yet", s)
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return fmt.Errorf("%q: the domain %q is not a full domain name", s, domain)
	}
	return nil
}

// Key is the form used to find duplicates: addresses that differ only in
// case are the same recipient.
func Key(addr string) string { return strings.ToLower(addr) }
