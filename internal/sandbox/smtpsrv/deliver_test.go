package smtpsrv

import (
	"errors"
	"testing"
)

// A message the Deliver hook could not store is refused with a temporary
// reply (the sender keeps it) and not counted; one it stored is accepted.
func TestDeliverHookRefusesWhatItCannotStore(t *testing.T) {
	fail := true
	var got []Message
	s, err := Start(Options{Security: NoTLS, AllowAnonymous: true, Deliver: func(m Message) error {
		if fail {
			return errors.New("disk full")
		}
		got = append(got, m)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tc := dialText(t, s)
	send := func() int {
		cmd(t, tc, "EHLO client")
		cmd(t, tc, "MAIL FROM:<a@example.com>")
		cmd(t, tc, "RCPT TO:<b@example.com>")
		if code, _ := cmd(t, tc, "DATA"); code != 354 {
			t.Fatalf("DATA: %d", code)
		}
		code, _ := cmd(t, tc, "Subject: x\r\n\r\nbody\r\n.")
		return code
	}
	if code := send(); code != 451 || s.Accepted() != 0 {
		t.Fatalf("a message the hook refused: %d, %d accepted", code, s.Accepted())
	}
	fail = false
	cmd(t, tc, "RSET")
	if code := send(); code != 250 || s.Accepted() != 1 || len(got) != 1 || got[0].To[0] != "b@example.com" {
		t.Fatalf("a stored message: %d, %d accepted, hook got %d", code, s.Accepted(), len(got))
	}
}
