package demo

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "us-ascii", "":
		return r, nil
	case "iso-2022-jp":
		return transform.NewReader(r, japanese.ISO2022JP.NewDecoder()), nil
	}
	return nil, fmt.Errorf("charset %s not handled by the demo", charset)
}

// Decoded is a delivered message as a reader sees it.
type Decoded struct {
	From, To, Subject, Charset string
	Text                       string
	Attachments                []string
}

// Decode parses raw message bytes the way a mail reader would, with the
// standard library, decoding ISO-2022-JP and UTF-8.
func Decode(raw []byte) (*Decoded, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	d := &Decoded{}
	for _, h := range []struct {
		dst  *string
		name string
	}{{&d.From, "From"}, {&d.To, "To"}, {&d.Subject, "Subject"}} {
		v, err := wordDecoder.DecodeHeader(m.Header.Get(h.name))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", h.name, err)
		}
		*h.dst = v
	}
	return d, d.walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), "", m.Body)
}

func (d *Decoded) walk(ctype, cte, disposition string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt, params = "text/plain", map[string]string{"charset": "us-ascii"}
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := d.walk(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p); err != nil {
				return err
			}
		}
	}
	if strings.HasPrefix(disposition, "attachment") {
		_, dp, _ := mime.ParseMediaType(disposition)
		d.Attachments = append(d.Attachments, dp["filename"])
		return nil
	}
	if mt != "text/plain" || d.Text != "" {
		return nil
	}
	r := transferDecoder(cte, body)
	r, err = charsetReader(params["charset"], r)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	d.Charset = params["charset"]
	d.Text = strings.ReplaceAll(string(b), "\r\n", "\n")
	return nil
}
