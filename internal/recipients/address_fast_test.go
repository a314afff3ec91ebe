package recipients

import (
	"math/rand/v2"
	"testing"
)

// TestPlainAddressVouchesOnlyForAccepted: CheckAddress skips the full
// check for what plainAddress vouches for, so that must be only addresses
// the full check accepts; and the common forms must be vouched for, or
// the shortcut saves nothing.
func TestPlainAddressVouchesOnlyForAccepted(t *testing.T) {
	for _, s := range []string{"user0000001@example.com", "a.b+tag@sub.example.co.jp", "o'brien@example.ie",
		"x_y-z@a-b.example", "{x}|~^`=?/*&%$#!@example.org", "a@b"} {
		if !plainAddress(s) {
			t.Errorf("plainAddress(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "@", "a@", "@b", "a@@b", ".a@b", "a.@b", "a..b@c", "a@.b", "a@b.", "a@b..c",
		"a b@c", `"a"@b`, "a@[1.2.3.4]", "a(c)@b", "é@b", "a@é", "a@b@c", "a,b@c", "<a@b>", "a@b\t", "a;b@c"} {
		if plainAddress(s) {
			t.Errorf("plainAddress(%q) = true, want false", s)
		}
	}
	alphabet := []string{"a", "Z", "0", ".", "@", "-", "+", "_", "'", "\"", " ", "(", ")", "<", ">", "[", "]", ",", ";", ":", "\\", "é", "\t", "!", "~", "{", "\x00", "\x7f"}
	rng := rand.New(rand.NewPCG(1, 2))
	vouched := 0
	for range 200_000 {
		n := 1 + rng.IntN(12)
		b := make([]byte, 0, 16)
		for range n {
			b = append(b, alphabet[rng.IntN(len(alphabet))]...)
		}
		s := string(b)
		if plainAddress(s) {
			vouched++
			if err := checkUnusual(s); err != nil {
				t.Fatalf("plainAddress(%q) = true, but the full check says %v", s, err)
			}
		}
	}
	if vouched < 100 {
		t.Fatalf("only %d random strings vouched for: the test checks too little", vouched)
	}
}

func BenchmarkCheckAddress(b *testing.B) {
	for b.Loop() {
		if err := CheckAddress("user0001234@example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckAddressFull(b *testing.B) {
	for b.Loop() {
		if err := checkUnusual("user0001234@example.com"); err != nil {
			b.Fatal(err)
		}
	}
}
