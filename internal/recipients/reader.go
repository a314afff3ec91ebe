// Package recipients reads a delivery's recipient list — CSV or TSV with a
// header row, in UTF-8 or the Shift_JIS that Excel writes in Japan, or an
// Excel workbook (.xlsx) — one row at a time, so that a list of a million
// rows is never held in memory.
package recipients

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/transform"

	"github.com/bluemoon-mail/bluemoon/internal/fileerr"
	"github.com/bluemoon-mail/bluemoon/internal/safefile"
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
	f     *os.File
	csv   *csv.Reader
	x     *xlsxSource // an .xlsx workbook's sheet instead of csv
	guard *rowGuard
	// checkUTF8: the encoding was forced to UTF-8, not found by reading
	// the whole file: each row is checked as it comes.
	checkUTF8 bool
	header    []string
	emailIdx  int
	row       int
	// nextLine is the line of a CSV where the next row starts unless blank
	// lines come first: encoding/csv skips those without a word, but a
	// spreadsheet shows each as a row, and the rows after it are numbered
	// past it.
	nextLine int
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
		return nil, fmt.Errorf("recipients: %w", fileerr.Explain(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("recipients: %w", fileerr.Explain(err))
	}
	// A pipe is fine (--recipients <(command)); a device never ends.
	if fi.IsDir() || fi.Mode()&os.ModeDevice != 0 {
		f.Close()
		return nil, fmt.Errorf("recipients: %w; give the list's file", &safefile.NotRegularError{Path: path, Mode: fi.Mode()})
	}
	regular := fi.Mode().IsRegular()
	if regular {
		if err := notAList(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("recipients %s: %w", path, err)
		}
	}
	forced := enc != ""
	if !forced {
		// Finding the encoding reads the whole file, then the rows read it
		// again: a pipe is read once, so it must name its encoding.
		if !regular {
			f.Close()
			return nil, fmt.Errorf("recipients %s: a pipe can be read only once, and finding the encoding reads the whole list "+
				"before its rows: add --encoding utf-8 or --encoding shift_jis", path)
		}
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
	if forced {
		head, err := br.Peek(64 << 10)
		if err := checkForced(head, err != nil, enc); err != nil {
			f.Close()
			return nil, fmt.Errorf("recipients %s: %w", path, err)
		}
	}
	// Lines that end with a carriage return alone (Excel for Mac's "CSV
	// (Macintosh)"): encoding/csv knows only LF and CRLF, so they are read
	// as LF. Decided from the file's start, which must have no LF at all:
	// a lone CR in a cell of a list with LF or CRLF lines stays as it is.
	// (In Shift_JIS, CR and LF are never part of a character.)
	start, _ := br.Peek(64 << 10)
	crOnly := bytes.IndexByte(start, '\r') >= 0 && bytes.IndexByte(start, '\n') < 0
	var src io.Reader = br
	if enc == "shift_jis" {
		src = transform.NewReader(br, japanese.ShiftJIS.NewDecoder())
	} else if bom, _ := br.Peek(3); string(bom) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	if crOnly {
		src = crAsLF{src}
	}
	guard := &rowGuard{r: src}
	sb := bufio.NewReaderSize(guard, guardSlack)
	comma := opts.Delimiter
	if comma == 0 {
		comma = detectDelimiter(path, sb)
	}
	r := &Reader{f: f, Encoding: enc, Comma: comma, guard: guard, checkUTF8: forced && enc == "utf-8"}
	r.csv = csv.NewReader(sb)
	r.csv.Comma = comma
	r.csv.ReuseRecord = true
	r.csv.FieldsPerRecord = -1 // a short row is reported with its row number, not as a parse failure
	if comma == '\t' {
		r.csv.LazyQuotes = true // TSV from spreadsheets does not quote
	}
	// The header line as written, for a hint should it not split into an
	// address column with this separator.
	first, _ := sb.Peek(4096)
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	hint := separatorHint(string(first), comma, emailColumn(opts))
	head, err := r.read()
	if err != nil {
		f.Close()
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("recipients %s: the file is empty (it needs a header row with an %q column)", path, emailColumn(opts))
		}
		var long *RowTooLongError
		if errors.As(err, &long) {
			long.Row = 1
			return nil, fmt.Errorf("recipients %s: header %w", path, err)
		}
		if hint != "" {
			return nil, fmt.Errorf("recipients %s: header row: %w; %s", path, err, hint)
		}
		return nil, fmt.Errorf("recipients %s: header row: %w", path, err)
	}
	r.row = 1
	r.nextLine = r.endLine(head) + 1
	if err := r.setHeader(path, head, opts); err != nil {
		f.Close()
		var ne *noEmailColumnError
		if hint != "" && errors.As(err, &ne) {
			return nil, fmt.Errorf("recipients %s: no %q column in the header (%s); %s", path, emailColumn(opts), ColumnList(r.header), hint)
		}
		return nil, err
	}
	return r, nil
}

// separatorHint says which separator the header seems to use when it is
// not the one read with, e.g. a "CSV" separated by semicolons, as Excel
// saves it where the comma is the decimal mark.
func separatorHint(line string, comma rune, emailCol string) string {
	if strings.Contains(line, string(comma)) && headerHas(line, comma, emailCol) {
		return ""
	}
	for _, sep := range []struct {
		r    rune
		flag string
	}{{';', "semicolon"}, {'\t', "tab"}, {',', "comma"}} {
		if sep.r == comma || !strings.ContainsRune(line, sep.r) {
			continue
		}
		if headerHas(line, sep.r, emailCol) {
			return fmt.Sprintf("the list seems to be separated by %ss, not %s: add --delimiter %s", sep.flag, separatorName(comma), sep.flag)
		}
	}
	return ""
}

// headerHas reports whether line, split on sep, has the column col.
func headerHas(line string, sep rune, col string) bool {
	for _, h := range strings.Split(line, string(sep)) {
		if strings.EqualFold(strings.Trim(strings.TrimSpace(h), "\"\ufeff"), col) {
			return true
		}
	}
	return false
}

func separatorName(r rune) string {
	switch r {
	case '\t':
		return "tabs"
	case ';':
		return "semicolons"
	}
	return "commas"
}

// ColumnList names columns for a message: the first few, then how many
// more, so that a header of a million columns gives a short error.
func ColumnList(cols []string) string {
	const shown, width = 12, 40
	var b strings.Builder
	for i, c := range cols {
		if i == shown {
			fmt.Fprintf(&b, ", … %d columns in all", len(cols))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		if len(c) > width {
			c = strings.ToValidUTF8(c[:width], "") + "…"
		}
		b.WriteString(c)
	}
	return b.String()
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
		rec, err := r.read()
		if err == io.EOF {
			return Row{}, io.EOF
		}
		r.row += 1 + r.blankLinesBefore(rec, err)
		var long *RowTooLongError
		if errors.As(err, &long) {
			long.Row = r.row
			return Row{Number: r.row}, long
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				return Row{Number: r.row}, &RowError{Row: r.row, Err: quoteInWords(pe.Err)}
			}
			return Row{Number: r.row}, &RowError{Row: r.row, Err: err}
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(rec) != len(r.header) {
			return Row{Number: r.row}, &RowError{Row: r.row, Err: &CellCountError{Got: len(rec), Want: len(r.header)}}
		}
		if r.checkUTF8 {
			for i, c := range rec {
				if !utf8.ValidString(c) {
					return Row{Number: r.row}, &RowError{Row: r.row, Field: r.header[i],
						Err: ErrNotUTF8}
				}
			}
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

// setHeader keeps the header row head and finds the address column in it.
func (r *Reader) setHeader(path string, head []string, opts Options) error {
	if len(head) > MaxColumns {
		return fmt.Errorf("recipients %s: the header row has %d columns; a list may have at most %d (is this the list, and is the separator right?)",
			path, len(head), MaxColumns)
	}
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
		return &noEmailColumnError{path: path, column: emailColumn(opts), header: r.header}
	}
	return nil
}

// noEmailColumnError: the header has no address column.
type noEmailColumnError struct {
	path, column string
	header       []string
}

func (e *noEmailColumnError) Error() string {
	return fmt.Sprintf("recipients %s: no %q column in the header (%s); name the address column with --email-column",
		e.path, e.column, ColumnList(e.header))
}

// ErrNotUTF8 is a cell of a list read as UTF-8 that is not.
var ErrNotUTF8 = errors.New("is not UTF-8 text, but the list was read as UTF-8 (--encoding utf-8); if it is Shift_JIS (CP932), use --encoding shift_jis or auto")

// crAsLF reads r with every carriage return made a line feed.
type crAsLF struct{ r io.Reader }

func (c crAsLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		if b == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// notAList says what the plain file f is when its first bytes show a
// format bluemoon does not read as a list, whatever the file's name: an old
// Excel .xls workbook (a compound file), or UTF-16 text (Excel's "Unicode
// Text", with its byte order mark).
func notAList(f *os.File) error {
	var sig [8]byte
	n, _ := f.ReadAt(sig[:], 0)
	switch head := string(sig[:n]); {
	case head == "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
		return errors.New("this is an old Excel workbook (.xls), which bluemoon does not read: " +
			"open it in Excel and save it as .xlsx (Excel Workbook) or as CSV, then give that file")
	case strings.HasPrefix(head, "\xff\xfe"), strings.HasPrefix(head, "\xfe\xff"):
		return errors.New("the file is UTF-16 text (what Excel saves as \"Unicode Text\"), which bluemoon does not read: " +
			"save it as \"CSV UTF-8 (Comma delimited)\" or as .xlsx, then give that file")
	}
	return nil
}

// QuoteError is encoding/csv's complaint about a double quote out of
// place, in words with how to write the cell: a list typed by hand or
// written by a script that does not quote has `=HYPERLINK("…")` or
// `"Yamada" Taro` in a cell. Unwrap gives encoding/csv's error.
type QuoteError struct{ Err error }

func (e *QuoteError) Error() string {
	if errors.Is(e.Err, csv.ErrBareQuote) {
		return `has a double quote (") inside a cell that does not start with one: put the whole cell in double quotes ` +
			`and double each quote inside it, as Excel saves it: "=HYPERLINK(""https://example.com"")"`
	}
	return `has a cell that starts with a double quote (") and has more text after its closing quote, or whose quote ` +
		`is never closed: put the whole cell in double quotes and double each quote inside it: """Yamada"" Taro"`
}
func (e *QuoteError) Unwrap() error { return e.Err }

// quoteInWords gives encoding/csv's quote errors their sentence.
func quoteInWords(err error) error {
	if errors.Is(err, csv.ErrBareQuote) || errors.Is(err, csv.ErrQuote) {
		return &QuoteError{Err: err}
	}
	return err
}

// CellCountError: a row has more or fewer cells than the header.
type CellCountError struct{ Got, Want int }

func (e *CellCountError) Error() string {
	return fmt.Sprintf("has %d cells, the header has %d", e.Got, e.Want)
}

// read reads one record, refusing one longer than MaxRowBytes before it
// is read whole.
func (r *Reader) read() ([]string, error) {
	if r.x != nil {
		return r.x.next(len(r.header))
	}
	if r.guard.failed != nil {
		return nil, r.guard.failed
	}
	rec, err := r.csv.Read()
	if r.guard.failed != nil {
		return nil, r.guard.failed
	}
	r.guard.start = r.csv.InputOffset()
	return rec, err
}

// blankLinesBefore counts the blank lines encoding/csv skipped before the
// row just read (rec, or the error reading it), and notes where the row
// ended.
func (r *Reader) blankLinesBefore(rec []string, err error) int {
	if r.x != nil {
		return 0 // a workbook's empty rows come as rows
	}
	start, end := 0, 0
	var pe *csv.ParseError
	switch {
	case err == nil && len(rec) > 0:
		start, _ = r.csv.FieldPos(0)
		end = r.endLine(rec)
	case errors.As(err, &pe):
		start, end = pe.StartLine, pe.Line
	default:
		return 0 // the reading stops here
	}
	blank := max(start-r.nextLine, 0)
	r.nextLine = end + 1
	return blank
}

// endLine is the line where the row just read ends: its last cell may hold
// line breaks (a quoted cell; encoding/csv gives each as "\n").
func (r *Reader) endLine(rec []string) int {
	if r.x != nil || len(rec) == 0 {
		return 0
	}
	line, _ := r.csv.FieldPos(len(rec) - 1)
	return line + strings.Count(rec[len(rec)-1], "\n")
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
