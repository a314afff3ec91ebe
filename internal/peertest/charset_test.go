package peertest

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"

	"golang.org/x/text/encoding/japanese"
)

// charsetReader lets mime.WordDecoder read ISO-2022-JP subjects as a Japanese mail reader does.
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-2022-jp":
		return japanese.ISO2022JP.NewDecoder().Reader(r), nil
	}
	return nil, fmt.Errorf("unexpected charset %q", charset)
}

// decodeSubject returns the decoded Subject of a raw message, "" when it has none.
func decodeSubject(raw []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	dec := mime.WordDecoder{CharsetReader: charsetReader}
	s, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return ""
	}
	return s
}
