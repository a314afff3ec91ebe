package transport

import "github.com/emersion/go-sasl"

// xoauth2 is the client side of Google's / Microsoft's XOAUTH2 SASL
// mechanism. When the server refuses the token it sends a 334 challenge
// holding base64 JSON; the client must answer with an empty line and then
// reads the final (535) reply. The JSON is kept for the error message.
type xoauth2 struct {
	user, token string
	challenge   []byte
}

var _ sasl.Client = (*xoauth2)(nil)

func (a *xoauth2) Start() (string, []byte, error) {
	ir := make([]byte, 0, len(a.user)+len(a.token)+20)
	ir = append(ir, "user="...)
	ir = append(ir, a.user...)
	ir = append(ir, "\x01auth=Bearer "...)
	ir = append(ir, a.token...)
	ir = append(ir, "\x01\x01"...)
	return "XOAUTH2", ir, nil
}

// Next answers a challenge (already base64-decoded by go-smtp) with an
// empty response, as the mechanism requires.
func (a *xoauth2) Next(challenge []byte) ([]byte, error) {
	a.challenge = append(a.challenge[:0], challenge...)
	return []byte{}, nil
}
