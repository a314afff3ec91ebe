package apisrv

import (
	"bytes"
	"io"
	"mime"
	"net/mail"
)

// addresses parses address lists whatever the charset of the display
// names (ISO-2022-JP among them): only the addresses matter here.
var addresses = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
}}

// recipients reads the To, Cc and Bcc headers, where both APIs take the
// recipients of a MIME message from.
func recipients(data []byte) ([]string, error) {
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, h := range []string{"To", "Cc", "Bcc"} {
		v := m.Header.Get(h)
		if v == "" {
			continue
		}
		list, err := addresses.ParseList(v)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out, nil
}
