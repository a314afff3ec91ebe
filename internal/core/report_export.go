package core

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/csvsafe"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

// A delivery's report as a file, for every face: CSV for a spreadsheet
// (every cell a spreadsheet would run as a formula neutralised: addresses
// and server replies come from other people) and JSON, exact. Both are
// written as the rows are read: a million-row report is never held.

// ReportColumns are the CSV report's columns.
var ReportColumns = []string{"row", "email", "state", "attempts", "reply", "time", "next_try", "via"}

// WriteReportCSV writes delivery id's report as CSV with a header row.
func (s *Service) WriteReportCSV(ctx context.Context, id int64, w io.Writer) error {
	cw := csvsafe.NewWriter(w)
	if err := cw.Write(ReportColumns); err != nil {
		return err
	}
	rec := make([]string, len(ReportColumns))
	err := s.Report(ctx, id, func(o delivery.Outcomes) error {
		rec[0], rec[1], rec[2], rec[3], rec[4], rec[5], rec[6], rec[7] = strconv.Itoa(o.Row), o.Email, o.State, strconv.Itoa(o.Attempts), o.Reply, rfc3339(o.At), rfc3339(o.NextTry), o.Via
		return cw.Write(rec)
	})
	cw.Flush()
	if err != nil {
		return err
	}
	return cw.Error()
}

// WriteReportJSON writes delivery id's report as one JSON array, a row
// per line.
func (s *Service) WriteReportJSON(ctx context.Context, id int64, w io.Writer) error {
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

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}
