package core

import (
	"context"
	"io"

	"github.com/bluemoon-mail/bluemoon/internal/csvsafe"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// The suppression list as a screen and a file show it: a page at a time,
// searched by address, and the whole list as CSV for every face.

// SuppressionQuery selects a page of the suppression list (Search, the
// After / Before cursors, Limit).
type SuppressionQuery = recipients.SuppressionQuery

// SuppressionPage is one page of it, with the cursors to the next and
// the previous page.
type SuppressionPage = recipients.SuppressionPage

// SuppressionPage reads one page of the list, by address.
func (s *Service) SuppressionPage(ctx context.Context, q SuppressionQuery) (*SuppressionPage, error) {
	return s.suppressions().Page(ctx, q)
}

// SuppressionCount is how many addresses are on the list.
func (s *Service) SuppressionCount(ctx context.Context) (int, error) {
	return s.suppressions().Count(ctx)
}

// SuppressionsCSV writes the whole list as CSV (address, reason, when it
// was added in local time), as it is read. A reason or an address that a
// spreadsheet would run as a formula is written as text (csvsafe): an
// imported list is other people's data. No byte-order mark: a face that
// hands the file to a spreadsheet adds one.
func (s *Service) SuppressionsCSV(ctx context.Context, out io.Writer) error {
	w := csvsafe.NewWriter(out)
	if err := w.Write([]string{"email", "reason", "added_at"}); err != nil {
		return err
	}
	err := s.Suppressed(ctx, func(e recipients.Suppressed) error {
		return w.Write([]string{e.Addr, e.Reason, rfc3339(e.AddedAt)})
	})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	return err
}
