package core

import (
	"bufio"
	"context"
	"encoding/json"
	"io"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

// A delivery's report as JSON, exact, for every face (CSV: ReportCSV),
// written as the rows are read: a million-row report is never held.

// ReportJSON writes delivery id's report as one JSON array, a row
// per line.
func (s *Service) ReportJSON(ctx context.Context, id int64, w io.Writer) error {
	bw := bufio.NewWriter(w)
	first := true
	err := s.Report(ctx, id, func(o delivery.Outcomes) error {
		b, err := json.Marshal(o)
		if err != nil {
			return err
		}
		if first {
			bw.WriteString("[")
		} else {
			bw.WriteString(",")
		}
		first = false
		bw.WriteString("\n  ")
		_, err = bw.Write(b)
		return err
	})
	if err != nil && first {
		return err
	}
	if first {
		bw.WriteString("[")
	}
	bw.WriteString("\n]\n")
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return err
}
