package core

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// PreviewInput is the message one row of a list would get.
type PreviewInput struct {
	Account string // the sender account (for From), or
	From    string // a sender address when no account is given
	List    ListInput
	Message MessageInput
	// Row is the list's row as a spreadsheet shows it: the header is row
	// 1, so the first recipient is row 2.
	Row int
}

// PreviewResult is the exact message, as an .eml file's bytes.
type PreviewResult struct {
	Row int
	To  string
	EML []byte
}

// Preview renders the message the recipient on one row of a list would
// get. Nothing is sent or stored.
func (s *Service) Preview(ctx context.Context, in PreviewInput) (*PreviewResult, error) {
	lo, err := in.List.options()
	if err != nil {
		return nil, err
	}
	if in.Row < 2 {
		return nil, fieldErr("row", CodeInvalid, "--row %d: the header is row 1; the first recipient is row 2", in.Row)
	}
	acct := &account.Account{From: in.From}
	if in.Account != "" {
		if acct, err = s.account(ctx, in.Account); err != nil {
			return nil, err
		}
	} else if in.From == "" {
		return nil, fieldErr("account", CodeRequired, "give --account NAME (or --from ADDRESS) for the sender")
	}
	spec, atts, err := in.Message.load(acct)
	if err != nil {
		return nil, err
	}
	r, err := recipients.Open(in.List.Path, lo)
	if err != nil {
		return nil, fieldErr("recipients", CodeInvalid, "%w", err)
	}
	defer r.Close()
	if spec.AttachColumn != "" {
		spec.AttachDir, _ = filepath.Abs(filepath.Dir(in.List.Path))
	}
	tpl, err := merge.Compile(spec, r.Header(), r.EmailIndex(), atts)
	if err != nil {
		return nil, fieldErr("message", CodeInvalid, "%w", err)
	}
	last := 1
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return nil, fieldErr("row", CodeInvalid, "the list has no row %d (its last row is %d)", in.Row, last)
		}
		last = rec.Number
		if rec.Number < in.Row {
			continue
		}
		if rec.Number > in.Row {
			return nil, fieldErr("row", CodeInvalid, "row %d is blank", in.Row)
		}
		var re *recipients.RowError
		if errors.As(err, &re) {
			return nil, fieldErr("row", CodeInvalid, "%w", err)
		}
		if err != nil {
			return nil, err
		}
		var c merge.Content
		if err := tpl.NewRenderer().Render(rec.Fields, &c); err != nil {
			return nil, fieldErr("row", CodeInvalid, "row %d, %w", in.Row, err)
		}
		var buf bytes.Buffer
		if err := tpl.Compose(&c, merge.Envelope{}, &buf); err != nil {
			return nil, err
		}
		return &PreviewResult{Row: in.Row, To: c.To, EML: buf.Bytes()}, nil
	}
}
