package delivery

import (
	"encoding/csv"
	"fmt"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// Every problem a person fixes differently gets its code and the values
// that fill its words in, however deep the error is wrapped; any other
// keeps no code (its English is shown).
func TestProblemCodes(t *testing.T) {
	for _, c := range []struct {
		err  error
		want Problem
	}{
		{&recipients.RowError{Row: 3, Err: &recipients.AddressError{Addr: "x@@y", Code: "invalid"}}, Problem{Code: "address.invalid", Value: "x@@y"}},
		{&recipients.RowError{Row: 3, Err: &recipients.CellCountError{Got: 2, Want: 3}}, Problem{Code: CodeCells, Got: 2, Want: 3}},
		{&recipients.RowError{Row: 3, Err: recipients.ErrNotUTF8}, Problem{Code: CodeNotUTF8}},
		{&recipients.RowError{Row: 3, Err: &recipients.QuoteError{Err: csv.ErrBareQuote}}, Problem{Code: CodeQuote}},
		{&recipients.RowError{Row: 3, Err: &recipients.QuoteError{Err: csv.ErrQuote}}, Problem{Code: CodeQuote}},
		{&merge.FieldError{Field: "氏名", Err: merge.ErrFieldEmpty}, Problem{Code: CodeFieldEmpty}},
		{&merge.FieldError{Field: "氏名", Err: merge.ErrFieldMissing}, Problem{Code: CodeFieldMissing}},
		{&merge.FieldError{Field: "file", Err: &merge.AttachError{Name: "a.pdf", Code: merge.AttachNotFound}}, Problem{Code: CodeAttachMissing, Value: "a.pdf"}},
		{fmt.Errorf("row: %w", &merge.AttachError{Name: "b.pdf", Code: merge.AttachTooLarge, Size: 30 << 20, Limit: 25 << 20}),
			Problem{Code: CodeAttachLarge, Value: "b.pdf", Got: 30 << 20, Want: 25 << 20}},
		{&merge.TemplateError{Part: "text body", Kind: merge.KindTooLarge, Limit: 25 << 20}, Problem{Code: CodeTooLarge, Want: 25 << 20}},
		{&merge.TemplateError{Part: "message", Kind: merge.KindTooLarge, Size: 26 << 20, Limit: 25 << 20}, Problem{Code: CodeTooLarge, Got: 26 << 20, Want: 25 << 20}},
		{&merge.TemplateError{Part: "text body", Kind: merge.KindTooSlow}, Problem{Code: CodeTooSlow}},
		{&merge.TemplateError{Part: "text body", Kind: merge.KindRender}, Problem{}},
		{fmt.Errorf("something else"), Problem{}},
	} {
		if got := coded(Problem{}, c.err); got != c.want {
			t.Errorf("%v: got %+v, want %+v", c.err, got, c.want)
		}
	}
}
