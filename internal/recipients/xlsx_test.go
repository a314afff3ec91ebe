package recipients

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/bluemoon-mail/bluemoon/internal/memprobe"
)

// writeXLSX writes sheets (name → rows) as a workbook; a nil row is left
// empty, as a person leaves a blank line in Excel.
func writeXLSX(t testing.TB, dir string, sheets []string, rows map[string][][]any) string {
	t.Helper()
	wb := excelize.NewFile()
	defer wb.Close()
	for i, name := range sheets {
		if i == 0 {
			if err := wb.SetSheetName("Sheet1", name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := wb.NewSheet(name); err != nil {
			t.Fatal(err)
		}
		sw, err := wb.NewStreamWriter(name)
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range rows[name] {
			if row == nil {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			if err := sw.SetRow(cell, row); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "list.xlsx")
	if err := wb.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestXLSXFirstSheetJapaneseNamesAndExcelRowNumbers(t *testing.T) {
	p := writeXLSX(t, t.TempDir(), []string{"名簿", "予備"}, map[string][][]any{
		"名簿": {
			{"氏名", "email", "会員番号", ""},
			{"山田太郎", "taro@example.jp", 1001},
			nil, // a blank line: skipped, later rows keep Excel's numbers
			{"佐藤花子", "not-an-address", 1002},
			{"鈴木一郎", "ichiro@example.jp", "", ""},
		},
		"予備": {{"email"}, {"spare@example.jp"}},
	})
	r, err := Open(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Sheet != "名簿" || len(r.Sheets) != 2 || strings.Join(r.Header(), ",") != "氏名,email,会員番号" {
		t.Fatalf("sheet %q of %q, header %q", r.Sheet, r.Sheets, r.Header())
	}
	var got []string
	for {
		row, err := r.Next()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			got = append(got, err.Error())
			continue
		}
		got = append(got, fmt.Sprintf("%d:%s", row.Number, strings.Join(row.Fields, "|")))
	}
	want := []string{"2:山田太郎|taro@example.jp|1001", `row 4, email: "not-an-address" is not a valid e-mail address`, "5:鈴木一郎|ichiro@example.jp|"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestXLSXChosenSheetAndMissingSheet(t *testing.T) {
	p := writeXLSX(t, t.TempDir(), []string{"A", "B"}, map[string][][]any{
		"A": {{"x"}, {"1"}},
		"B": {{"Email", "name"}, {"b@example.com", "Bee"}},
	})
	r, err := Open(p, Options{Sheet: "B"})
	if err != nil {
		t.Fatal(err)
	}
	rows, errs := readAll(t, r)
	r.Close()
	if len(errs) > 0 || len(rows) != 1 || rows[0][1] != "Bee" {
		t.Fatalf("rows %q errs %q", rows, errs)
	}
	if _, err := Open(p, Options{Sheet: "C"}); err == nil || !strings.Contains(err.Error(), `no sheet "C" (its sheets: A, B)`) {
		t.Fatalf("missing sheet: %v", err)
	}
	// The first sheet has no address column: said as for a CSV list.
	if _, err := Open(p, Options{}); err == nil || !strings.Contains(err.Error(), "--email-column") {
		t.Fatalf("sheet without email: %v", err)
	}
}

func TestXLSXThatIsNotAWorkbook(t *testing.T) {
	p := writeFile(t, "old.xlsx", []byte("\xd0\xcf\x11\xe0 an old .xls"))
	if _, err := Open(p, Options{}); err == nil || !strings.Contains(err.Error(), "not an Excel workbook") {
		t.Fatalf("err %v", err)
	}
}

func TestInspectCountsAndFindsTheAddressColumn(t *testing.T) {
	src := "会員番号,氏名,メールアドレス\n1,A,a@example.com\n2,B,bad\n3,C,A@Example.com\n4,D,d@example.com\n5,E\n"
	p := writeFile(t, "l.csv", []byte(src))
	s, err := Inspect(context.Background(), p, Options{}, InspectOptions{SampleRows: 2,
		Suppressed: func(_ context.Context, k string) (bool, error) { return k == "d@example.com", nil }})
	if err != nil {
		t.Fatal(err)
	}
	if s.EmailColumn != "メールアドレス" || s.Format != "csv" || s.Encoding != "utf-8" {
		t.Fatalf("column %q format %q encoding %q", s.EmailColumn, s.Format, s.Encoding)
	}
	if s.Rows != 5 || s.Valid != 1 || s.Duplicates != 1 || s.Suppressed != 1 || s.ProblemRows != 2 || len(s.Sample) != 2 {
		t.Fatalf("summary %+v", s)
	}
	if s.Problems[0].Row != 3 || s.Problems[1].Row != 6 {
		t.Fatalf("problems at rows %d, %d", s.Problems[0].Row, s.Problems[1].Row)
	}
	var ae *AddressError
	var ce *CellCountError
	if !errorsAs(s.Problems[0].Err, &ae) || ae.Code != "invalid" || !errorsAs(s.Problems[1].Err, &ce) || ce.Got != 2 {
		t.Fatalf("problems not typed: %#v %#v", s.Problems[0].Err, s.Problems[1].Err)
	}
}

func TestInspectByContentAndUndecided(t *testing.T) {
	s, err := Inspect(context.Background(), writeFile(t, "l.csv", []byte("who,where\nA,a@example.com\nB,b@example.com\n")), Options{}, InspectOptions{})
	if err != nil || s.EmailColumn != "where" || s.Valid != 2 {
		t.Fatalf("by content: %+v %v", s, err)
	}
	s, err = Inspect(context.Background(), writeFile(t, "l.csv", []byte("who,what\nA,1\nB,2\n")), Options{}, InspectOptions{})
	if err != nil || s.EmailColumn != "" || len(s.Sample) != 2 || s.Valid != 0 {
		t.Fatalf("undecided: %+v %v", s, err)
	}
}

// A 100,000-row sheet is read a row at a time: the peak heap while
// reading it stays far below the sheet's own size.
func TestXLSXLargeSheetStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("large workbook")
	}
	const n = 100_000
	p := writeLargeXLSX(t, t.TempDir(), n)
	var s *Summary
	var err error
	peak := memprobe.Peak(func() { s, err = Inspect(context.Background(), p, Options{}, InspectOptions{}) })
	if err != nil {
		t.Fatal(err)
	}
	if s.Valid != n || s.Rows != n {
		t.Fatalf("read %d rows, %d valid", s.Rows, s.Valid)
	}
	// The sheet's XML is over 16 MB (so excelize keeps it in a temporary
	// file) and its cells as Go strings would take about as much: either
	// held whole would pass this bound.
	t.Logf("peak heap while reading %d rows: %.1f MB", n, memprobe.MB(peak))
	if peak > 16<<20 {
		t.Fatalf("reading the sheet took %d MB of heap at its peak", peak>>20)
	}
}

func BenchmarkInspectXLSX100k(b *testing.B) {
	p := writeLargeXLSX(b, b.TempDir(), 100_000)
	b.ResetTimer()
	for range b.N {
		if _, err := Inspect(context.Background(), p, Options{}, InspectOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func writeLargeXLSX(t testing.TB, dir string, n int) string {
	t.Helper()
	wb := excelize.NewFile()
	defer wb.Close()
	sw, err := wb.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	sw.SetRow("A1", []any{"email", "氏名", "備考"})
	for i := 2; i <= n+1; i++ {
		cell, _ := excelize.CoordinatesToCellName(1, i)
		if err := sw.SetRow(cell, []any{fmt.Sprintf("user%06d@example.jp", i), fmt.Sprintf("山田太郎%d", i), strings.Repeat("備考", 20)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "big.xlsx")
	if err := wb.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func errorsAs[T any](err error, target *T) bool { return errors.As(err, target) }

// A workbook saved under another name is read as one; a CSV is not
// looked into.
func TestIsXLSXByContent(t *testing.T) {
	dir := t.TempDir()
	p := writeXLSX(t, dir, []string{"S"}, map[string][][]any{"S": {{"email"}, {"a@example.com"}}})
	renamed := filepath.Join(dir, "list.dat")
	if err := os.Rename(p, renamed); err != nil {
		t.Fatal(err)
	}
	if !IsXLSX(renamed) || IsXLSX(writeFile(t, "l.dat", []byte("email\na@example.com\n"))) {
		t.Fatal("IsXLSX does not tell a workbook by its content")
	}
	r, err := Open(renamed, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
}

// An old Excel .xls (a binary compound file, whatever its name) is named
// as such with what to do, as the docs promise, not taken for a CSV in an
// unknown encoding ("name its encoding with --encoding" leads nowhere).
func TestOldXLSIsNamed(t *testing.T) {
	xls := append([]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), make([]byte, 504)...)
	xls = append(xls, []byte("\x09\x08\x10\x00\x00\x06\x05\x00\xff\xfe\x80\x81")...)
	for _, name := range []string{"list.xls", "list.csv", "list"} {
		for _, enc := range []string{"", "shift_jis"} {
			_, err := Open(writeFile(t, name, xls), Options{Encoding: enc})
			if err == nil || !strings.Contains(err.Error(), ".xls") || !strings.Contains(err.Error(), "save it as .xlsx") ||
				strings.Contains(err.Error(), "--encoding") {
				t.Errorf("%s (encoding %q): %v", name, enc, err)
			}
		}
	}
}
