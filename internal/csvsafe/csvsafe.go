// Package csvsafe writes CSV that is safe to open in a spreadsheet. Values
// in our reports come from other people (a list's addresses, a server's
// replies): a cell such as =HYPERLINK(…) or @SUM(…) would be run by Excel,
// LibreOffice or Google Sheets as a formula (CSV injection). Following
// OWASP's advice, a cell that a spreadsheet would read as a formula gets a
// leading apostrophe, which spreadsheets show as text and do not run.
// JSON output is never passed through here: it stays exact.
package csvsafe

import (
	"encoding/csv"
	"io"
	"strings"
	"unicode/utf8"
)

// Cell returns s as a spreadsheet will show it but never run it: unchanged
// unless it starts with a character that begins a formula (= + - @, tab,
// CR, LF, or their full-width forms, which Japanese spreadsheets also take
// as formula signs), possibly after spaces; then with a leading apostrophe.
func Cell(s string) string {
	if risky(s) {
		return "'" + s
	}
	return s
}

func risky(s string) bool {
	// Some spreadsheets trim leading spaces (ASCII and ideographic) before
	// deciding whether a cell is a formula.
	t := strings.TrimLeft(s, " \u3000")
	if t == "" {
		return false
	}
	switch t[0] {
	case '=', '+', '-', '@', '\t', '\r', '\n':
		return true
	}
	switch r, _ := utf8.DecodeRuneInString(t); r {
	case '＝', '＋', '－', '＠': // full-width forms, taken as formula signs by Japanese spreadsheets
		return true
	}
	return false
}

// Writer is a csv.Writer whose every cell goes through Cell.
type Writer struct {
	w   *csv.Writer
	rec []string
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: csv.NewWriter(w)} }

// Write writes one record, neutralising its cells; record is not changed.
func (w *Writer) Write(record []string) error {
	w.rec = w.rec[:0]
	for _, c := range record {
		w.rec = append(w.rec, Cell(c))
	}
	return w.w.Write(w.rec)
}

// Flush writes any buffered data to the underlying io.Writer.
func (w *Writer) Flush() { w.w.Flush() }

// Error reports any error from a previous Write or Flush.
func (w *Writer) Error() error { return w.w.Error() }
