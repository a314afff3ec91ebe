package message

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"

	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/japanese"
)

// Decode reads a message back as a mail program shows it: headers with
// their encoded words decoded, the text and HTML bodies in Unicode,
// attachments with their names and sizes. The console's preview shows a
// recipient's exact message this way, from the bytes that would be sent.

// Decoded is a message as its reader sees it.
type Decoded struct {
	Headers     []HeaderField // every field, in order, decoded
	From        string
	To          string
	Subject     string
	Date        string
	Text        string // the text/plain body ("" when none)
	HTML        string // the text/html body ("" when none)
	Charset     string // the charset the text body was written in
	Attachments []DecodedAttachment
	Size        int // the whole message, in bytes
}

// HeaderField is one header field, its value decoded.
type HeaderField struct{ Name, Value string }

// DecodedAttachment is one attached file.
type DecodedAttachment struct {
	Filename    string
	ContentType string
	Size        int // decoded bytes
	Data        []byte
}

// MaxDecodeBytes bounds a message Decode reads.
const MaxDecodeBytes = 64 << 20

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader decodes the charsets Japanese mail arrives in (and any
// other the WHATWG index knows).
func charsetReader(charset string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "us-ascii", "":
		return in, nil
	case "iso-2022-jp":
		return japanese.ISO2022JP.NewDecoder().Reader(in), nil
	case "shift_jis", "cp932", "windows-31j":
		return japanese.ShiftJIS.NewDecoder().Reader(in), nil
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, fmt.Errorf("unknown charset %q", charset)
	}
	return enc.NewDecoder().Reader(in), nil
}

// DecodeHeader decodes a header value's encoded words; a word it cannot
// decode is left as it was written.
func DecodeHeader(v string) string {
	s, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return s
}

// Decode parses raw.
func Decode(raw []byte) (*Decoded, error) {
	if len(raw) > MaxDecodeBytes {
		return nil, fmt.Errorf("the message is %d bytes, over the %d this reads", len(raw), MaxDecodeBytes)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not a mail message: %w", err)
	}
	d := &Decoded{Size: len(raw)}
	for _, f := range headerOrder(raw) {
		for _, v := range msg.Header[f] {
			d.Headers = append(d.Headers, HeaderField{Name: f, Value: DecodeHeader(v)})
		}
	}
	d.From = DecodeHeader(msg.Header.Get("From"))
	d.To = DecodeHeader(msg.Header.Get("To"))
	d.Subject = DecodeHeader(msg.Header.Get("Subject"))
	d.Date = msg.Header.Get("Date")
	ctype := msg.Header.Get("Content-Type")
	if ctype == "" {
		ctype = "text/plain; charset=us-ascii"
	}
	if err := d.walk(ctype, msg.Header.Get("Content-Transfer-Encoding"), msg.Header.Get("Content-Disposition"), msg.Body, 0); err != nil {
		return nil, err
	}
	return d, nil
}

// headerOrder is the header's field names in the order written (net/mail
// keeps a map), each once.
func headerOrder(raw []byte) []string {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	if bytes.Equal(head, raw) {
		head, _, _ = bytes.Cut(raw, []byte("\n\n"))
	}
	var names []string
	seen := map[string]bool{}
	for _, line := range strings.Split(string(head), "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		name, _, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		name = textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(name))
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names
}

const maxDepth = 8

func (d *Decoded) walk(ctype, cte, disp string, body io.Reader, depth int) error {
	if depth > maxDepth {
		return errors.New("the message nests parts too deeply")
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt, params = "application/octet-stream", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("multipart: %w", err)
			}
			pt := part.Header.Get("Content-Type")
			if pt == "" {
				pt = "text/plain; charset=us-ascii"
			}
			if err := d.walk(pt, part.Header.Get("Content-Transfer-Encoding"), part.Header.Get("Content-Disposition"), part, depth+1); err != nil {
				return err
			}
		}
	}
	data, err := decodeTransfer(cte, body)
	if err != nil {
		return err
	}
	dispType, dparams, _ := mime.ParseMediaType(disp)
	isFile := dispType == "attachment" || dparams["filename"] != "" || params["name"] != "" ||
		!strings.HasPrefix(mt, "text/plain") && !strings.HasPrefix(mt, "text/html")
	if isFile || mt == "text/plain" && d.Text != "" || mt == "text/html" && d.HTML != "" {
		name := dparams["filename"]
		if name == "" {
			name = DecodeHeader(params["name"])
		}
		d.Attachments = append(d.Attachments, DecodedAttachment{Filename: name, ContentType: mt, Size: len(data), Data: data})
		return nil
	}
	cs := strings.ToLower(params["charset"])
	text := string(data)
	if r, err := charsetReader(cs, bytes.NewReader(data)); err == nil {
		if b, err := io.ReadAll(r); err == nil {
			text = string(b)
		}
	}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	if mt == "text/html" {
		d.HTML = text
	} else {
		d.Text, d.Charset = text, cs
	}
	return nil
}

func decodeTransfer(cte string, r io.Reader) ([]byte, error) {
	var data []byte
	var err error
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		data, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, &lineJoiner{r: r}))
	case "quoted-printable":
		data, err = io.ReadAll(quotedprintable.NewReader(r))
	default:
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return nil, fmt.Errorf("%s body: %w", cte, err)
	}
	return data, nil
}

// lineJoiner drops the line breaks and spaces of a base64 body, which the
// standard decoder takes only as \r and \n.
type lineJoiner struct{ r io.Reader }

func (l *lineJoiner) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}
