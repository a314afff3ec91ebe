package recipients

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"
)

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func readAll(t *testing.T, r *Reader) (rows [][]string, errs []string) {
	t.Helper()
	for {
		row, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		rows = append(rows, append([]string{}, row.Fields...))
	}
}

func TestShiftJISDetectedAndDecoded(t *testing.T) {
	src := "email,name\r\ntaro@example.jp,山田太郎\r\nhanako@example.jp,佐藤花子①\r\n"
	sjis, err := japanese.ShiftJIS.NewEncoder().String(src)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(writeFile(t, "list.csv", []byte(sjis)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Encoding != "shift_jis" {
		t.Fatalf("encoding %q, want shift_jis", r.Encoding)
	}
	rows, errs := readAll(t, r)
	if len(errs) > 0 || len(rows) != 2 || rows[0][1] != "山田太郎" || rows[1][1] != "佐藤花子①" {
		t.Fatalf("rows %q errs %q", rows, errs)
	}
}

func TestUTF8WithBOMAndTSVByContent(t *testing.T) {
	r, err := Open(writeFile(t, "list.txt", []byte("\xef\xbb\xbfEmail\tname\nA@Example.com\tÅsa\n")), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Comma != '\t' || r.Encoding != "utf-8" || r.Header()[0] != "Email" {
		t.Fatalf("comma %q enc %q header %q", r.Comma, r.Encoding, r.Header())
	}
	rows, errs := readAll(t, r)
	if len(errs) > 0 || len(rows) != 1 || rows[0][1] != "Åsa" {
		t.Fatalf("rows %q errs %q", rows, errs)
	}
}

func TestBadRowsNamedWithRowNumbers(t *testing.T) {
	src := "name,mail\nA,a@example.com\nB,not-an-address\nC\nD,Dee <d@example.com>\nE,e@localhost\nF,f@example.com,g@example.com\n"
	r, err := Open(writeFile(t, "l.csv", []byte(src)), Options{EmailColumn: "mail"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, errs := readAll(t, r)
	if len(rows) != 1 {
		t.Fatalf("rows %q", rows)
	}
	want := []string{"row 3, mail:", "row 4: has 1 cells", "row 5, mail:", "row 6, mail:", "row 7: has 3 cells"}
	if len(errs) != len(want) {
		t.Fatalf("errors %q", errs)
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i], w) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i], w)
		}
	}
	var re *RowError
	if _, err := r.Next(); !errors.Is(err, io.EOF) || errors.As(err, &re) {
		t.Fatalf("after the end: %v", err)
	}
}

func TestMissingEmailColumnSaysWhatToDo(t *testing.T) {
	_, err := Open(writeFile(t, "l.csv", []byte("name,address\nA,a@example.com\n")), Options{})
	if err == nil || !strings.Contains(err.Error(), "--email-column") {
		t.Fatalf("err %v", err)
	}
}

func TestNeitherUTF8NorShiftJIS(t *testing.T) {
	_, err := Open(writeFile(t, "l.csv", []byte("email,name\na@example.com,\xff\xfe\xfd\n")), Options{})
	if err == nil || !strings.Contains(err.Error(), "--encoding") {
		t.Fatalf("err %v", err)
	}
}

func TestCheckAddress(t *testing.T) {
	for _, ok := range []string{"a@example.com", "first.last+tag@sub.example.co.jp"} {
		if err := CheckAddress(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a", "a@b", "a@b.", "A <a@b.com>", "a@b.com, c@d.com", "a@@b.com", "a@.b.com", "佐藤@example.org", "a@例え.jp"} {
		if err := CheckAddress(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Rows keep the numbers a spreadsheet shows for the file: a blank line is a
// row there (encoding/csv skips it without a word), a quoted cell with line
// breaks is one row however many lines it takes, and a line of spaces is a
// row too. A person told "row 6" must find that row in Excel.
func TestRowNumbersCountBlankLinesAsSpreadsheetsDo(t *testing.T) {
	for _, eol := range []string{"\n", "\r\n"} {
		src := strings.Join([]string{
			"email,note",
			"a@example.com,one", // row 2
			"",                  // row 3
			"",                  // row 4
			"bad-1,two",         // row 5
			`c@example.com,"three` + eol + `lines` + eol + `long"`, // row 6 (three lines)
			"bad-2,four", // row 7
			"   ",        // row 8
			"",           // row 9
			"bad-3,five", // row 10
		}, eol) + eol
		r, err := Open(writeFile(t, "l.csv", []byte(src)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			var re *RowError
			if errors.As(err, &re) {
				got = append(got, re.Row)
			} else if err != nil {
				t.Fatal(err)
			} else if row.Email == "c@example.com" {
				got = append(got, -row.Number)
			}
		}
		r.Close()
		if want := []int{5, -6, 7, 10}; !slices.Equal(got, want) {
			t.Errorf("line ends %q: rows %v, want %v (negative: the good row with the multi-line cell)", eol, got, want)
		}
	}
}

// A quote out of place (typed by hand, or a list made by a script that
// does not quote) is said in words with how to write the cell, not as
// encoding/csv's `bare " in non-quoted-field`; the rows around it are read.
func TestMisplacedQuotesSaidInWords(t *testing.T) {
	src := "email,name\n" +
		"a@example.com,ok\n" + // row 2
		`b@example.com,=HYPERLINK("http://x")` + "\n" + // row 3: a quote inside an unquoted cell
		`c@example.com,"Yamada" Taro` + "\n" + // row 4: text after a quoted cell's closing quote
		"d@example.com,fine\n" + // row 5
		`e@example.com,"never closed` + "\n" // row 6: a quote opened and never closed
	r, err := Open(writeFile(t, "l.csv", []byte(src)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, errs := readAll(t, r)
	if len(rows) != 2 || rows[0][0] != "a@example.com" || rows[1][0] != "d@example.com" {
		t.Errorf("rows %q, want rows 2 and 5", rows)
	}
	if len(errs) != 3 {
		t.Fatalf("errors %q, want rows 3, 4 and 6", errs)
	}
	for i, want := range []string{"row 3: ", "row 4: ", "row 6: "} {
		e := errs[i]
		if !strings.HasPrefix(e, want) || strings.Contains(e, "non-quoted-field") || strings.Contains(e, "quoted-field") ||
			!strings.Contains(e, `double quotes`) || !strings.Contains(e, `""`) {
			t.Errorf("error %d = %q, want %q and how to write the cell", i, e, want)
		}
	}
}

// A pipe (--recipients <(command)) can be read once: finding its encoding
// would read it all before the rows, so without --encoding it is refused
// at once, saying to add the flag, not with "seek …: illegal seek"; with
// --encoding it is read.
func TestPipeNeedsTheEncodingNamed(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("opens a pipe through /dev/fd")
	}
	pipe := func(content string) string {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		go func() {
			w.WriteString(content)
			w.Close()
		}()
		return fmt.Sprintf("/dev/fd/%d", r.Fd())
	}
	const list = "email,name\na@example.com,山田\n"
	_, err := Open(pipe(list), Options{})
	if err == nil || strings.Contains(err.Error(), "seek") || !strings.Contains(err.Error(), "--encoding utf-8") {
		t.Fatalf("a pipe without --encoding: %v", err)
	}
	r, err := Open(pipe(list), Options{Encoding: "utf-8"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rows, errs := readAll(t, r)
	if len(errs) > 0 || len(rows) != 1 || rows[0][1] != "山田" {
		t.Fatalf("rows %q errs %q", rows, errs)
	}
}

// A list saved by Excel as "Unicode Text" is UTF-16: it is named as such
// with what to do, not called "neither UTF-8 nor Shift_JIS … name its
// encoding with --encoding" (which takes neither form of UTF-16).
func TestUTF16ListIsNamed(t *testing.T) {
	le := []byte{0xff, 0xfe}
	be := []byte{0xfe, 0xff}
	for _, r := range "email\tname\r\nu@example.com\t山田\r\n" {
		le = append(le, byte(r), byte(r>>8))
		be = append(be, byte(r>>8), byte(r))
	}
	for name, data := range map[string][]byte{"le.txt": le, "be.csv": be} {
		for _, enc := range []string{"", "utf-8", "shift_jis"} {
			_, err := Open(writeFile(t, name, data), Options{Encoding: enc})
			if err == nil || !strings.Contains(err.Error(), "UTF-16") || !strings.Contains(err.Error(), "CSV UTF-8") {
				t.Errorf("%s (encoding %q): %v", name, enc, err)
			}
		}
	}
}

// A list whose lines end with a carriage return alone (what Excel for Mac
// writes as "CSV (Macintosh)") is read line by line, in UTF-8 or
// Shift_JIS, not as one header row holding every row.
func TestCROnlyLineEnds(t *testing.T) {
	src := "email,name\r" + "a@example.com,山田\r" + "\r" + "b@example.com,\"佐藤\"\r"
	sjis, err := japanese.ShiftJIS.NewEncoder().String(src)
	if err != nil {
		t.Fatal(err)
	}
	for enc, data := range map[string]string{"utf-8": src, "shift_jis": sjis} {
		r, err := Open(writeFile(t, "mac.csv", []byte(data)), Options{})
		if err != nil {
			t.Fatalf("%s: %v", enc, err)
		}
		if h := r.Header(); len(h) != 2 || h[1] != "name" || r.Encoding != enc {
			t.Errorf("%s: header %q, encoding %q", enc, h, r.Encoding)
		}
		var got []string
		for {
			row, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", enc, err)
			}
			got = append(got, fmt.Sprintf("%d %s %s", row.Number, row.Email, row.Fields[1]))
		}
		r.Close()
		if want := []string{"2 a@example.com 山田", "4 b@example.com 佐藤"}; !slices.Equal(got, want) {
			t.Errorf("%s: rows %q, want %q", enc, got, want)
		}
	}
}
