package core

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/message"
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

// PreviewResult is the exact message, as an .eml file's bytes and as a
// mail program shows it.
type PreviewResult struct {
	Row int
	To  string
	EML []byte
	// Decoded is EML read back: headers decoded, bodies, attachments
	// with names and sizes.
	Decoded *message.Decoded
	// Prev and Next are the rows with a recipient before and after Row
	// (0: none), for stepping through the list.
	Prev, Next int
	// Note says how the message differs from what was asked: a message
	// asked for in ISO-2022-JP that goes as UTF-8 (a character JIS X 0208
	// lacks). "" when none.
	Note string
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
	} else if recipients.CheckAddress(in.From) != nil {
		return nil, fieldErr("from", CodeInvalid, "--from %q is not an e-mail address (give it bare, like me@example.com)", in.From)
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
	merge.DefaultAttachDir(&spec, in.List.Path)
	tpl, err := merge.Compile(spec, r.Header(), r.EmailIndex(), atts)
	if err != nil {
		return nil, fieldErr("message", CodeInvalid, "%w", err)
	}
	last, prev := 1, 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return nil, fieldErr("row", CodeInvalid, "the list has no row %d (its last row is %d)", in.Row, last)
		}
		last = rec.Number
		if rec.Number < in.Row {
			prev = rec.Number
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
			// The row's data (an attachment's name, its characters) made
			// the message impossible: that row's problem, as preflight says.
			return nil, fieldErr("row", CodeInvalid, "row %d: %w", in.Row, err)
		}
		res := &PreviewResult{Row: in.Row, To: c.To, EML: buf.Bytes(), Prev: prev}
		if c.FellBack != nil {
			res.Note = merge.FallbackNote(c.FellBack)
		}
		if res.Decoded, err = message.Decode(res.EML); err != nil {
			return nil, err
		}
		// The next row with a recipient (a row with a problem is one too:
		// stepping onto it shows the problem).
		for {
			next, err := r.Next()
			if err == io.EOF || next.Number == 0 {
				break
			}
			if next.Number > in.Row {
				res.Next = next.Number
				break
			}
		}
		return res, nil
	}
}
