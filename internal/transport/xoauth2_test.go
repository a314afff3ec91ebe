package transport

import "testing"

func TestXOAUTH2InitialResponse(t *testing.T) {
	a := &xoauth2{user: "taro@example.com", token: "ya29.abc"}
	mech, ir, err := a.Start()
	if err != nil || mech != "XOAUTH2" {
		t.Fatalf("Start: %q %v", mech, err)
	}
	if want := "user=taro@example.com\x01auth=Bearer ya29.abc\x01\x01"; string(ir) != want {
		t.Fatalf("initial response %q, want %q", ir, want)
	}
	// A 334 challenge is answered with an empty (not absent) response and kept.
	resp, err := a.Next([]byte(`{"status":"401"}`))
	if err != nil || resp == nil || len(resp) != 0 || string(a.challenge) != `{"status":"401"}` {
		t.Fatalf("Next: %q %v, kept %q", resp, err, a.challenge)
	}
}
