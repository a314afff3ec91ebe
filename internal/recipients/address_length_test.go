package recipients

import (
	"errors"
	"strings"
	"testing"
)

// RFC 5321's lengths: a local part of 64 octets and an address of 254 are
// taken, one more of either is refused, saying which and naming it.
func TestCheckAddressRefusesWhatIsTooLongForRFC5321(t *testing.T) {
	label := strings.Repeat("d", 60) + "."                                                    // 61 octets
	dom := label + label + label + strings.Repeat("e", 60) + ".jp"                            // 246 octets
	for _, ok := range []string{strings.Repeat("a", 64) + "@example.com", "abcdefg@" + dom} { // 254
		if err := CheckAddress(ok); err != nil {
			t.Errorf("%d octets (local %d): %v", len(ok), strings.IndexByte(ok, '@'), err)
		}
	}
	for _, tc := range []struct{ addr, code, says string }{
		{strings.Repeat("a", 65) + "@example.com", CodeLocalTooLong, "the part before the @ is 65 characters; mail servers refuse more than 64"},
		{"abcdefgh@" + dom, CodeTooLong, "is 255 characters; mail servers refuse an address of more than 254"},
	} {
		err := CheckAddress(tc.addr)
		var ae *AddressError
		if !errors.As(err, &ae) || ae.Code != tc.code || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), tc.addr) {
			t.Errorf("%d octets: %v, want %s saying %q and naming the address", len(tc.addr), err, tc.code, tc.says)
		}
	}
}
