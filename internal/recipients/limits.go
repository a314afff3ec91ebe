package recipients

import (
	"fmt"
	"io"
)

// Limits on a list, far above any real one: a row (a line, or several
// when a quoted cell holds line breaks) and the number of columns. Without
// them a 200 MB line, or a quote opened and never closed, was read into
// memory whole, and a header of a million columns was echoed back in
// every error.
const (
	MaxRowBytes = 4 << 20 // bytes of one row, after decoding to UTF-8
	MaxColumns  = 1000
)

// guardSlack is the buffer between the guard and the CSV reader: the
// guard is at most this far ahead of the row being read.
const guardSlack = 64 << 10

// maxLineSeparators bounds the commas, semicolons and tabs of one line.
// The CSV reader keeps a few words of bookkeeping per cell: a 4 MiB line
// of nothing but commas would cost it over 100 MB.
const maxLineSeparators = 100_000

// RowTooLongError: a row passed MaxRowBytes, or one of its lines had more
// than maxLineSeparators separators (Wide). Reading stops there; the rest
// of the file cannot be trusted to be split into rows correctly.
type RowTooLongError struct {
	Row   int // as a spreadsheet numbers it: the header is row 1
	Limit int
	Wide  bool
}

func (e *RowTooLongError) Error() string {
	if e.Wide {
		return fmt.Sprintf("row %d has over %d commas, semicolons or tabs, far more cells than a list has: the file may not be a list; reading stopped there",
			e.Row, e.Limit)
	}
	return fmt.Sprintf("row %d is over %d MiB long, which no recipient row is: the file may not be a list, or a quote (\") opened in a cell is never closed, so the rest of the file reads as one cell; reading stopped there",
		e.Row, e.Limit>>20)
}

// ExitCode: a bad input file.
func (e *RowTooLongError) ExitCode() int { return 2 }

// rowGuard sits between the decoded list and the CSV reader and fails
// the read that would let one row grow past MaxRowBytes, before the CSV
// reader holds it. start is where the current row began, as the CSV
// reader counts (InputOffset), which trails what was fed through here by
// at most guardSlack.
//
// It also counts the separators of each line. A line with too many fails
// the read that reaches it: at once when the CSV reader is already on it,
// else after handing over the lines before it, so that the error comes
// while the CSV reader is on that line's row.
type rowGuard struct {
	r       io.Reader
	fed     int64
	start   int64
	seps    int // separators since the last line break fed
	pending error
	failed  error
}

func (g *rowGuard) Read(p []byte) (int, error) {
	if g.failed != nil {
		return 0, g.failed
	}
	if g.pending != nil {
		g.failed = g.pending
		return 0, g.failed
	}
	if g.fed-g.start > MaxRowBytes+guardSlack {
		g.failed = &RowTooLongError{Limit: MaxRowBytes}
		return 0, g.failed
	}
	n, err := g.r.Read(p)
	lineStart := -1 // where in p the current line began, if it did in p
	for i, c := range p[:n] {
		switch c {
		case '\n':
			g.seps, lineStart = 0, i+1
		case ',', ';', '\t':
			if g.seps++; g.seps > maxLineSeparators {
				wide := &RowTooLongError{Limit: maxLineSeparators, Wide: true}
				if lineStart <= 0 {
					g.failed = wide
					return 0, wide
				}
				g.pending = wide
				g.fed += int64(lineStart)
				return lineStart, nil
			}
		}
	}
	g.fed += int64(n)
	return n, err
}
