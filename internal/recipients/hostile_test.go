package recipients

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/text/encoding/japanese"

	"github.com/bluemoon-mail/bluemoon/internal/memprobe"
)

// writeStreaming writes a list of head, then n bytes of fill, then tail,
// without ever holding the fill in memory.
func writeStreaming(t *testing.T, name, head string, fill byte, n int, tail string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(head)
	chunk := []byte(strings.Repeat(string(fill), 64<<10))
	for left := n; left > 0; left -= len(chunk) {
		w.Write(chunk[:min(left, len(chunk))])
	}
	w.WriteString(tail)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// readList opens path and reads every row, returning the first error that
// is not a plain row problem, with the peak heap it took.
func readList(t *testing.T, path string, opts Options) (rows int, err error, peak uint64) {
	t.Helper()
	peak = memprobe.Peak(func() {
		var r *Reader
		if r, err = Open(path, opts); err != nil {
			return
		}
		defer r.Close()
		for {
			_, e := r.Next()
			if e == io.EOF {
				return
			}
			var re *RowError
			if e != nil && !errors.As(e, &re) {
				err = e
				return
			}
			rows++
		}
	})
	return rows, err, peak
}

// A 200 MB line, and a quote opened and never closed before 200 MB of
// text, are refused at the row they start on, after at most a few MB were
// held; the error is short and says what to look at.
func TestHugeRowsRefusedWithTheirRow(t *testing.T) {
	const size = 200 << 20
	for _, c := range []struct {
		name, head, tail string
		fill             byte
		row              int
	}{
		{"200 MB line", "email,name\nok@example.com,Ok\nlong@example.com,", "\nlate@example.com,Late\n", 'a', 3},
		{"quote never closed", "email,name\nok@example.com,Ok\nq@example.com,\"unclosed\n", "\nlate@example.com,Late\n", '\n', 3},
		{"200 MB header", "email,", "\n", 'x', 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := writeStreaming(t, "list.csv", c.head, c.fill, size, c.tail)
			_, err, peak := readList(t, path, Options{})
			t.Logf("peak heap %.1f MiB; %v", memprobe.MB(peak), err)
			var long *RowTooLongError
			if !errors.As(err, &long) || long.Row != c.row {
				t.Fatalf("err = %v, want row %d refused as too long", err, c.row)
			}
			if msg := err.Error(); len(msg) > 600 || !strings.Contains(msg, fmt.Sprintf("row %d is over 4 MiB long", c.row)) {
				t.Errorf("error (%d bytes): %.300s", len(msg), msg)
			}
			if peak > 100<<20 {
				t.Errorf("peak heap %.1f MiB, want under 100", memprobe.MB(peak))
			}
		})
	}
}

// A header of a million columns gives a short error, not the columns.
func TestMillionColumnHeaderGetsAShortError(t *testing.T) {
	var b strings.Builder
	b.WriteString("name")
	for i := 1; i < 1_000_000; i++ {
		b.WriteString(",c")
	}
	b.WriteString("\nx\n")
	path := writeFile(t, "wide.csv", []byte(b.String()))
	_, err, peak := readList(t, path, Options{})
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "header row 1 has over 100000 commas") {
		t.Fatalf("err (%d bytes): %.400v", len(fmt.Sprint(err)), err)
	}
	t.Logf("peak heap %.1f MiB; %v", memprobe.MB(peak), err)
	if peak > 100<<20 {
		t.Errorf("peak heap %.1f MiB, want under 100", memprobe.MB(peak))
	}
	// A row of nothing but commas, as long as a row may be, is refused
	// for its width, naming it.
	path = writeStreaming(t, "commas.csv", "email,name\na@example.com,A\nb@example.com,", ',', 4<<20-100, "\n")
	_, err, peak = readList(t, path, Options{})
	var wide *RowTooLongError
	if !errors.As(err, &wide) || !wide.Wide || wide.Row != 3 || !strings.Contains(err.Error(), "row 3 has over 100000 commas") {
		t.Errorf("row of commas: %v", err)
	}
	t.Logf("row of commas: peak heap %.1f MiB; %v", memprobe.MB(peak), err)
	if peak > 100<<20 {
		t.Errorf("peak heap %.1f MiB, want under 100", memprobe.MB(peak))
	}
	// More columns than a list may have, but not absurdly many.
	b.Reset()
	b.WriteString("email")
	for i := 1; i < 5000; i++ {
		fmt.Fprintf(&b, ",c%d", i)
	}
	_, err = Open(writeFile(t, "wide.csv", []byte(b.String()+"\n")), Options{})
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "the header row has 5000 columns; a list may have at most 1000") {
		t.Fatalf("err (%d bytes): %.400v", len(fmt.Sprint(err)), err)
	}
	// Under the limit, a missing address column lists a few columns only.
	b.Reset()
	b.WriteString("name")
	for i := 1; i < 900; i++ {
		fmt.Fprintf(&b, ",column%d", i)
	}
	_, err = Open(writeFile(t, "wide.csv", []byte(b.String()+"\n")), Options{})
	if err == nil || len(err.Error()) > 500 || !strings.Contains(err.Error(), "900 columns in all") {
		t.Fatalf("err (%d bytes): %v", len(fmt.Sprint(err)), err)
	}
}

// A "CSV" separated by semicolons (as Excel saves it where the comma is
// the decimal mark) is told to use --delimiter semicolon; a TSV read as
// CSV the same with tab.
func TestSeparatorHint(t *testing.T) {
	for _, c := range []struct{ name, data, want string }{
		{"list.csv", "email;name;note\na@example.com;A;x\n", "separated by semicolons, not commas: add --delimiter semicolon"},
		{"list.csv", "\"email\";\"name\"\na@example.com;A\n", "add --delimiter semicolon"},
		{"list.csv", "email\tname\na@example.com\tA\n", "separated by tabs, not commas: add --delimiter tab"},
		{"list.tsv", "email,name\na@example.com,A\n", "separated by commas, not tabs: add --delimiter comma"},
	} {
		_, err := Open(writeFile(t, c.name, []byte(c.data)), Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: %v", c.name, c.data, err)
		}
	}
	r, err := Open(writeFile(t, "list.csv", []byte("email;name\na@example.com;A\n")), Options{Delimiter: ';'})
	if err != nil {
		t.Fatal(err)
	}
	rows, errs := readAll(t, r)
	if len(errs) > 0 || len(rows) != 1 || rows[0][1] != "A" {
		t.Errorf("with ';': %q %q", rows, errs)
	}
}

// A forced --encoding that does not fit the file says why; a file that
// turns to Shift_JIS further down is named at that row.
func TestForcedWrongEncodingSaysWhy(t *testing.T) {
	utf8List := "email,name\ntaro@example.jp,山田太郎\n"
	sjis, _ := japanese.ShiftJIS.NewEncoder().String(utf8List)
	for _, c := range []struct{ data, enc, want string }{
		{sjis, "utf-8", "--encoding utf-8, but the file is not UTF-8: it reads as Shift_JIS"},
		{utf8List, "shift_jis", "--encoding shift_jis, but the file is UTF-8"},
		{"email,name\na@example.com,\xff\xfe\xfd\xfc\n", "utf-8", "--encoding utf-8, but the file is not UTF-8 text"},
	} {
		_, err := Open(writeFile(t, "l.csv", []byte(c.data)), Options{Encoding: c.enc})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("--encoding %s: %v", c.enc, err)
		}
	}
	// Past the first 64 KiB, the row itself is named.
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := 0; b.Len() < 80<<10; i++ {
		fmt.Fprintf(&b, "u%d@example.com,User\n", i)
	}
	late, _ := japanese.ShiftJIS.NewEncoder().String("late@example.jp,佐藤花子\n")
	b.WriteString(late)
	r, err := Open(writeFile(t, "l.csv", []byte(b.String())), Options{Encoding: "utf-8"})
	if err != nil {
		t.Fatal(err)
	}
	_, errs := readAll(t, r)
	if len(errs) != 1 || !strings.Contains(errs[0], ", name: is not UTF-8 text") || !strings.Contains(errs[0], "--encoding shift_jis or auto") {
		t.Errorf("errors %q", errs)
	}
	// Plain ASCII is the same in both: forcing either is fine.
	if _, err := Open(writeFile(t, "l.csv", []byte("email\na@example.com\n")), Options{Encoding: "shift_jis"}); err != nil {
		t.Error(err)
	}
}

// /dev/zero and a folder are not lists: refused at once, not read for
// ever.
func TestDevicesAndFoldersAreNotLists(t *testing.T) {
	paths := map[string]string{t.TempDir(): "is a folder"}
	if runtime.GOOS != "windows" {
		paths["/dev/zero"] = "is a device"
	}
	for p, want := range paths {
		_, err := Open(p, Options{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", p, err)
		}
	}
}
