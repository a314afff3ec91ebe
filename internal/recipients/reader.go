// Package recipients reads a delivery's recipient list — CSV or TSV with a
// header row, in UTF-8 or the Shift_JIS that Excel writes in Japan, or an
// Excel workbook (.xlsx) — one row at a time, so that a list of a million
// rows is never held in memory.
package recipients

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"
)

// Options say how to read a list; zero values mean "detect".
type Options struct {
	Delimiter   rune   // ',' or '\t'; 0 detects from the extension, then the header
	Encoding    string // "utf-8", "shift_jis" (also "sjis", "cp932"); "" or "auto" detects
	EmailColumn string // the address column; default "email"
	Sheet       string // the sheet of an .xlsx workbook; "" is the first

	// headerOnly opens a list without an address column (ReadHeader).
	headerOnly bool
}

// Row is one recipient row. Fields is reused by the next call to Next:
// copy what must outlive it.
type Row struct {
	Number int      // row number as a spreadsheet shows it: the header is row 1
	Email  string   // the address cell, trimmed
	Fields []string // every cell, in header order (the address column included)
}

// Reader streams rows from a recipient list.
type Reader struct {
	f        *os.File
	csv      *csv.Reader
	x        *xlsxSource // an .xlsx workbook's sheet instead of csv
	header   []string
	emailIdx int
	row      int
	Encoding string   // the encoding read: "utf-8", "shift_jis", or "xlsx" for a workbook (its text is Unicode)
	Comma    rune     // the separator of a CSV or TSV list (0 for .xlsx)
	Sheet    string   // the sheet read, for an .xlsx workbook
	Sheets   []string // the workbook's sheets
}

// Open opens path and reads its header row.
func Open(path string, opts Options) (*Reader, error) {
	enc, err := normaliseEncoding(opts.Encoding)
	if err != nil {
		return nil, err
	}
	if IsXLSX(path) {
		return openXLSX(path, opts)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("recipients: %w", err)
	}
	if enc == "" {
		enc, err = detectEncoding(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("recipients %s: %w", path, err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	}
	br := bufio.NewReaderSize(f, 64<<10)
	var src io.Reader = br
	if enc == "shift_jis" {
		src = transform.NewReader(br, japanese.ShiftJIS.NewDecoder())
	} else if bom, _ := br.Peek(3); string(bom) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	sb := bufio.NewReaderSize(src, 64<<10)
	comma := opts.Delimiter
	if comma == 0 {
		comma = detectDelimiter(path, sb)
	}
	r := &Reader{f: f, Encoding: enc, Comma: comma}
	r.csv = csv.NewReader(sb)
	r.csv.Comma = comma
	r.csv.ReuseRecord = true
	r.csv.FieldsPerRecord = -1 // a short row is reported with its row number, not as a parse failure
	if comma == '\t' {
		r.csv.LazyQuotes = true // TSV from spreadsheets does not quote
	}
	head, err := r.csv.Read()
	if err != nil {
		f.Close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("recipients %s: the file is empty (it needs a header row with an %q column)", path, emailColumn(opts))
		}
		return nil, fmt.Errorf("recipients %s: header row: %w", path, err)
	}
	r.row = 1
	if err := r.setHeader(path, head, opts); err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

func emailColumn(o Options) string {
	if o.EmailColumn != "" {
		return o.EmailColumn
	}
	return "email"
}

// Header returns the column names.
func (r *Reader) Header() []string { return r.header }

// EmailIndex is the position of the address column in Header.
func (r *Reader) EmailIndex() int { return r.emailIdx }

// RowError is a problem with one row, naming the row and, when it has one,
// the field.
type RowError struct {
	Row   int
	Field string
	Err   error
}

func (e *RowError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("row %d, %s: %v", e.Row, e.Field, e.Err)
	}
	return fmt.Sprintf("row %d: %v", e.Row, e.Err)
}
func (e *RowError) Unwrap() error { return e.Err }

// Next returns the next row, io.EOF at the end, or a *RowError for a row
// that cannot be used (the reader can go on after it). Blank lines are
// skipped.
func (r *Reader) Next() (Row, error) {
	for {
		rec, err := r.record()
		if err == io.EOF {
			return Row{}, io.EOF
		}
		r.row++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				return Row{Number: r.row}, &RowError{Row: r.row, Err: pe.Err}
			}
			return Row{Number: r.row}, &RowError{Row: r.row, Err: err}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(r.header) {
			return Row{Number: r.row}, &RowError{Row: r.row, Err: &CellCountError{Got: len(rec), Want: len(r.header)}}
		}
		row := Row{Number: r.row, Fields: rec}
		if r.emailIdx < 0 { // ReadHeader's reader: no address column yet
			return row, nil
		}
		row.Email = strings.TrimSpace(rec[r.emailIdx])
		if err := CheckAddress(row.Email); err != nil {
			return row, &RowError{Row: r.row, Field: r.header[r.emailIdx], Err: err}
		}
		return row, nil
	}
}

// Close closes the file.
func (r *Reader) Close() error {
	if r.x != nil {
		return r.x.close()
	}
	return r.f.Close()
}

// record reads the next record of the list's rows, from the CSV reader or
// the workbook's sheet.
func (r *Reader) record() ([]string, error) {
	if r.x != nil {
		return r.x.next(len(r.header))
	}
	return r.csv.Read()
}

// setHeader keeps the header row head and finds the address column in it.
func (r *Reader) setHeader(path string, head []string, opts Options) error {
	r.header = make([]string, len(head))
	r.emailIdx = -1
	seen := map[string]bool{}
	for i, h := range head {
		h = strings.TrimSpace(h)
		r.header[i] = h
		if h == "" {
			return fmt.Errorf("recipients %s: header row: column %d has no name", path, i+1)
		}
		if seen[h] {
			return fmt.Errorf("recipients %s: header row: column %q appears twice", path, h)
		}
		seen[h] = true
		if strings.EqualFold(h, emailColumn(opts)) && r.emailIdx < 0 {
			r.emailIdx = i
		}
	}
	if r.emailIdx < 0 && !opts.headerOnly {
		return fmt.Errorf("recipients %s: no %q column in the header (%s); name the address column with --email-column",
			path, emailColumn(opts), strings.Join(r.header, ", "))
	}
	return nil
}

// CellCountError: a row has more or fewer cells than the header.
type CellCountError struct{ Got, Want int }

func (e *CellCountError) Error() string {
	return fmt.Sprintf("has %d cells, the header has %d", e.Got, e.Want)
}

func normaliseEncoding(e string) (string, error) {
	switch strings.ToLower(strings.ReplaceAll(e, "-", "_")) {
	case "", "auto":
		return "", nil
	case "utf_8", "utf8":
		return "utf-8", nil
	case "shift_jis", "sjis", "cp932", "windows_31j", "ms932":
		return "shift_jis", nil
	}
	return "", fmt.Errorf("--encoding %q: use utf-8, shift_jis (cp932) or auto", e)
}

func detectDelimiter(path string, sb *bufio.Reader) rune {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".tsv", ".tab":
		return '\t'
	case ".csv":
		return ','
	}
	line, _ := sb.Peek(4096)
	if i := strings.IndexByte(string(line), '\n'); i >= 0 {
		line = line[:i]
	}
	if strings.Count(string(line), "\t") > strings.Count(string(line), ",") {
		return '\t'
	}
	return ','
}
