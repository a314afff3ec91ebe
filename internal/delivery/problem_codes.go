package delivery

import (
	"errors"

	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// A row's problem as a code, so that a face can say it in its person's
// language (the console's catalogues) while the CLI prints Message. The
// codes are the cases a person fixes differently; any other problem has
// no code and is shown as its English text.
const (
	// CodeAddressPrefix + a recipients.AddressError code ("invalid",
	// "not_bare"…): the address column's cell (Value) is not an address.
	CodeAddressPrefix = "address."
	CodeCells         = "cells"          // Got cells, the header has Want
	CodeNotUTF8       = "not_utf8"       // Field's cell is not UTF-8 text
	CodeQuote         = "quote"          // a double quote is where CSV does not take one
	CodeFieldEmpty    = "field_empty"    // Field is empty but the template prints it
	CodeFieldMissing  = "field_missing"  // Field is missing for this row
	CodeAttachMissing = "attach_missing" // the file Value names is not there
	CodeAttachLarge   = "attach_large"   // the file Value is Got bytes, the limit Want
	CodeTooLarge      = "too_large"      // the message is Got bytes (0: over, by how much unknown), the limit Want
	CodeTooSlow       = "too_slow"       // filling in the row's message passed the time limit
	// CodeFallbackPrefix + the part ("subject", "text", "html"), Notes
	// only: the message goes as UTF-8, not ISO-2022-JP, because that part
	// has Value, a character ISO-2022-JP lacks. (Field stays empty: the
	// CLI prints a note as "row N: …".)
	CodeFallbackPrefix = "fallback."
)

// coded gives p the code of err, if one fits.
func coded(p Problem, err error) Problem {
	var ae *recipients.AddressError
	var cc *recipients.CellCountError
	var at *merge.AttachError
	var te *merge.TemplateError
	switch {
	case errors.As(err, &ae):
		p.Code, p.Value = CodeAddressPrefix+ae.Code, ae.Addr
	case errors.As(err, &cc):
		p.Code, p.Got, p.Want = CodeCells, int64(cc.Got), int64(cc.Want)
	case errors.Is(err, recipients.ErrNotUTF8):
		p.Code = CodeNotUTF8
	case errors.As(err, new(*recipients.QuoteError)):
		p.Code = CodeQuote
	case errors.Is(err, merge.ErrFieldEmpty):
		p.Code = CodeFieldEmpty
	case errors.Is(err, merge.ErrFieldMissing):
		p.Code = CodeFieldMissing
	case errors.As(err, &at) && at.Code == merge.AttachNotFound:
		p.Code, p.Value = CodeAttachMissing, at.Name
	case errors.As(err, &at) && at.Code == merge.AttachTooLarge:
		p.Code, p.Value, p.Got, p.Want = CodeAttachLarge, at.Name, at.Size, at.Limit
	case errors.As(err, &te) && te.Kind == merge.KindTooLarge:
		p.Code, p.Got, p.Want = CodeTooLarge, int64(te.Size), int64(te.Limit)
	case errors.As(err, &te) && te.Kind == merge.KindTooSlow:
		p.Code = CodeTooSlow
	}
	return p
}
