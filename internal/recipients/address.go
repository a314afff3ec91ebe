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
	// local_not_ascii, local_too_long, too_long, domain_incomplete.
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
	case CodeLocalTooLong:
		return fmt.Sprintf("%q: the part before the @ is %d characters; mail servers refuse more than %d (RFC 5321)", e.Addr, strings.LastIndexByte(e.Addr, '@'), MaxLocalLen)
	case CodeTooLong:
		return fmt.Sprintf("%q is %d characters; mail servers refuse an address of more than %d (RFC 5321)", e.Addr, len(e.Addr), MaxAddressLen)
	case "domain_incomplete":
		return fmt.Sprintf("%q: the domain %q is not a full domain name", e.Addr, e.Domain)
	}
	return fmt.Sprintf("%q is not a valid e-mail address", e.Addr)
}

// RFC 5321's limits (4.5.3.1): the local part is at most 64 octets, and a
// path at most 256 with its angle brackets, so an address at most 254.
const (
	MaxLocalLen   = 64
	MaxAddressLen = 254
)

// AddressError codes of an address too long to be one.
const (
	CodeLocalTooLong = "local_too_long"
	CodeTooLong      = "too_long"
)

// CheckAddress accepts one bare address (no display name, no angle
// brackets, no list) within RFC 5321's lengths whose domain has a dot:
// what a mailbox provider will take in RCPT TO. A refusal is an
// *AddressError.
func CheckAddress(s string) error {
	bad := func(code string) error { return &AddressError{Addr: s, Code: code} }
	if s == "" {
		return bad("empty")
	}
	if !plainAddress(s) {
		if err := checkUnusual(s); err != nil {
			return err
		}
	}
	at := strings.LastIndexByte(s, '@')
	switch {
	case at > MaxLocalLen:
		return bad(CodeLocalTooLong)
	case len(s) > MaxAddressLen:
		return bad(CodeTooLong)
	}
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return &AddressError{Addr: s, Code: "domain_incomplete", Domain: domain}
	}
	return nil
}

// checkUnusual is CheckAddress's full check, for an address plainAddress
// does not vouch for.
func checkUnusual(s string) error {
	bad := func(code string) error { return &AddressError{Addr: s, Code: code} }
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
	if i := strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 }); i >= 0 {
		if i > at {
			return bad("domain_not_ascii")
		}
		return bad("local_not_ascii")
	}
	return nil
}

// plainAddress reports whether s is dot-atom@dot-atom in ASCII (RFC 5322
// atext), the form of nearly every address in a list: net/mail parses it
// back to itself, so the parse — half of reading a row — can be skipped.
func plainAddress(s string) bool {
	at := -1
	prev := byte('.') // the start of s, or of the domain, is like a dot
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b == '@':
			if at >= 0 || prev == '.' {
				return false
			}
			at, b = i, '.'
		case b == '.':
			if prev == '.' {
				return false
			}
		case b >= 0x80 || !atext[b]:
			return false
		}
		prev = b
	}
	return at >= 0 && prev != '.'
}

// atext is RFC 5322's atext: letters, digits and !#$%&'*+-/=?^_`{|}~.
var atext = func() (t [128]bool) {
	for b := 0; b < 128; b++ {
		t[b] = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
			strings.IndexByte("!#$%&'*+-/=?^_`{|}~", byte(b)) >= 0
	}
	return
}()

// Key is the form used to find duplicates: addresses that differ only in
// case are the same recipient.
func Key(addr string) string { return strings.ToLower(addr) }
