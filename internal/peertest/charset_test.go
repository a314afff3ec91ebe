package peertest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
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

// textBody decodes the body of a single-part text/plain message as a mail reader would: transfer
// encoding, then charset; line ends become "\n".
func textBody(m *mail.Message) (string, error) {
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return "", err
	}
	if mt != "text/plain" {
		return "", fmt.Errorf("content type %s, want text/plain", mt)
	}
	var r io.Reader = m.Body
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
		if r, err = charsetReader(cs, r); err != nil {
			return "", err
		}
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}
