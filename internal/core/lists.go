package core

import (
	"context"

	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// ListSummary is what a recipient list holds, as a person checks it
// before a delivery (see recipients.Summary).
type ListSummary = recipients.Summary

// InspectList reads a whole list once and says what it holds: format,
// encoding, sheets, columns, the first rows, how many rows are valid,
// every bad row (the first thousand kept) with its number and reason,
// duplicates and suppressed addresses. With no EmailColumn the address
// column is found by its name or its cells; when none can be, the
// summary has only the columns and first rows and EmailColumn is "".
// Nothing is stored.
func (s *Service) InspectList(ctx context.Context, in ListInput) (*ListSummary, error) {
	lo, err := in.options()
	if err != nil {
		return nil, err
	}
	chk, err := s.suppressions().Checker(ctx)
	if err != nil {
		return nil, err
	}
	defer chk.Close()
	sum, err := recipients.Inspect(ctx, in.Path, lo, recipients.InspectOptions{SampleRows: 5, Suppressed: chk.Suppressed})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fieldErr("recipients", CodeInvalid, "%w", err)
	}
	return sum, nil
}
