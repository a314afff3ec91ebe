package recipients

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Excel workbooks (.xlsx) are read with excelize's row iterator, which
// decodes the sheet's XML as a stream: a sheet over UnzipXMLSizeLimit
// goes to a temporary file rather than memory, so a 100,000-row sheet
// is read a row at a time like a CSV file. Cells come as Excel shows them
// (its number and date formats applied), which is what a person typed
// and expects in their message.

// Bounds on a workbook: what it may unpack to in all (a small file that
// unzips to gigabytes is refused), and the part of one sheet held in
// memory before it spills to a temporary file.
const (
	xlsxUnzipLimit    = 2 << 30
	xlsxInMemoryLimit = 16 << 20
)

// IsXLSX reports whether path is an Excel workbook: by its extension, or
// by the zip signature every .xlsx starts with (a workbook saved under
// another name is still read right). Only a regular file is looked into:
// a byte read from a pipe would be lost to the CSV reader.
func IsXLSX(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx", ".xlsm":
		return true
	case ".csv", ".tsv", ".tab", ".txt":
		return false
	}
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var sig [4]byte
	if _, err := io.ReadFull(f, sig[:]); err != nil {
		return false
	}
	return bytes.Equal(sig[:], []byte("PK\x03\x04"))
}

// Sheets lists the sheets of an .xlsx workbook, in the workbook's order.
func Sheets(path string) ([]string, error) {
	wb, err := openWorkbook(path)
	if err != nil {
		return nil, err
	}
	defer wb.Close()
	return wb.GetSheetList(), nil
}

func openWorkbook(path string) (*excelize.File, error) {
	wb, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: xlsxUnzipLimit, UnzipXMLSizeLimit: xlsxInMemoryLimit})
	if err != nil {
		if errors.Is(err, excelize.ErrWorkbookFileFormat) || strings.Contains(err.Error(), "zip: not a valid zip file") {
			return nil, fmt.Errorf("recipients %s: not an Excel workbook (.xlsx); an older .xls must be saved as .xlsx or CSV first", path)
		}
		return nil, fmt.Errorf("recipients %s: %w", path, err)
	}
	return wb, nil
}

// xlsxSource is one sheet of a workbook, read row by row.
type xlsxSource struct {
	wb   *excelize.File
	rows *excelize.Rows
	n    int // rows.Next calls: excelize steps one row number per call, empty rows included
}

// openXLSX opens the sheet opts.Sheet (default: the first) of a workbook
// and reads its header row, the first row that is not empty.
func openXLSX(path string, opts Options) (*Reader, error) {
	wb, err := openWorkbook(path)
	if err != nil {
		return nil, err
	}
	sheets := wb.GetSheetList()
	sheet := opts.Sheet
	if sheet == "" && len(sheets) > 0 {
		sheet = sheets[0]
	}
	found := false
	for _, s := range sheets {
		found = found || s == sheet
	}
	if !found {
		wb.Close()
		return nil, fmt.Errorf("recipients %s: the workbook has no sheet %q (its sheets: %s); choose one with --sheet", path, sheet, strings.Join(sheets, ", "))
	}
	rows, err := wb.Rows(sheet)
	if err != nil {
		wb.Close()
		return nil, fmt.Errorf("recipients %s, sheet %s: %w", path, sheet, err)
	}
	src := &xlsxSource{wb: wb, rows: rows}
	r := &Reader{x: src, Sheet: sheet, Sheets: sheets, Encoding: "xlsx"}
	var head []string
	for {
		rec, err := src.next(0)
		if err == io.EOF {
			src.close()
			return nil, fmt.Errorf("recipients %s: sheet %s is empty (it needs a header row with an %q column)", path, sheet, emailColumn(opts))
		}
		if err != nil {
			src.close()
			return nil, fmt.Errorf("recipients %s, sheet %s: %w", path, sheet, err)
		}
		if !blank(rec) {
			// A header's empty cells at the end are not columns.
			for len(rec) > 0 && strings.TrimSpace(rec[len(rec)-1]) == "" {
				rec = rec[:len(rec)-1]
			}
			head = append(head, rec...)
			break
		}
	}
	r.row = src.n
	if err := r.setHeader(path, head, opts); err != nil {
		src.close()
		return nil, err
	}
	return r, nil
}

// next returns the cells of the next row of the sheet, as many as width
// when the row's last cells are empty (Excel leaves them out), or io.EOF.
// An empty row comes back as one empty cell, which the reader skips
// while counting it, so the numbers of the rows after it stay Excel's.
func (x *xlsxSource) next(width int) ([]string, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	x.n++
	cells, err := x.rows.Columns()
	if err != nil {
		return nil, err
	}
	if blank(cells) {
		return []string{""}, nil
	}
	// Cells past the header that are empty are formatting, not data.
	for len(cells) > width && width > 0 && strings.TrimSpace(cells[len(cells)-1]) == "" {
		cells = cells[:len(cells)-1]
	}
	for len(cells) < width {
		cells = append(cells, "")
	}
	return cells, nil
}

func (x *xlsxSource) close() error {
	err := x.rows.Close()
	if cerr := x.wb.Close(); err == nil {
		err = cerr
	}
	return err
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}
