package recipients

import (
	"fmt"
	"net/mail"
	"strings"
)

// AddressError says what is wrong with an address: Code for a face that
// words it in its own language, Error in English a user can act on.
type AddressError struct {
	Addr string
	// Code is one of: empty, several, not_bare, invalid, domain_not_ascii,
	// local_not_ascii, domain_incomplete.
	Code   string
	Domain string // for domain_incomplete
}

func (e *AddressError) Error() string {
	switch e.Code {
	case "empty":
		return "the address is empty"
	case "several":
		return fmt.Sprintf("%q holds more than one address (one per row)", e.Addr)
	case "not_bare":
		return fmt.Sprintf("%q is not a bare address (write only name@example.com, no display name)", e.Addr)
	case "domain_not_ascii":
		return fmt.Sprintf("%q: the domain has non-ASCII characters; write it in its xn-- (punycode) form", e.Addr)
	case "local_not_ascii":
		// Such an address needs SMTPUTF8 end to end, which bluemoon does
		// not speak yet: better said at preflight than refused mid-delivery.
		return fmt.Sprintf("%q has non-ASCII characters before the @ (an internationalised address), which bluemoon cannot send to yet", e.Addr)
	case "domain_incomplete":
		return fmt.Sprintf("%q: the domain %q is not a full domain name", e.Addr, e.Domain)
	}
	return fmt.Sprintf("%q is not a valid e-mail address", e.Addr)
}

// CheckAddress accepts one bare address (no display name, no angle
// brackets, no list) whose domain has a dot: what a mailbox provider will
// take in RCPT TO. A refusal is an *AddressError.
func CheckAddress(s string) error {
	bad := func(code string) error { return &AddressError{Addr: s, Code: code} }
	if s == "" {
		return bad("empty")
	}
	if strings.ContainsAny(s, ",;") {
		return bad("several")
	}
	if strings.ContainsAny(s, "<> \t\"") {
		return bad("not_bare")
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return bad("invalid")
	}
	at := strings.LastIndexByte(s, '@')
	domain := s[at+1:]
	if i := strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 }); i >= 0 {
		if i > at {
			return bad("domain_not_ascii")
		}
		return bad("local_not_ascii")
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return &AddressError{Addr: s, Code: "domain_incomplete", Domain: domain}
	}
	return nil
}

// Key is the form used to find duplicates: addresses that differ only in
// case are the same recipient.
func Key(addr string) string { return strings.ToLower(addr) }
