package cli

import (
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/mattn/go-runewidth"
)

// table prints rows in columns padded by display width. A Japanese
// character takes two columns of a terminal; text/tabwriter counts it as
// one, so every column after a kanji account name or subject went askew.
// go-runewidth knows each character's width (East Asian Width, combining
// marks, emoji), and follows the locale for the ambiguous ones (○, ①…),
// which Japanese terminals draw wide.
type table struct {
	w    io.Writer
	rows [][]string
}

func newTable(w io.Writer, header ...string) *table {
	t := &table{w: w}
	if len(header) > 0 {
		t.rows = append(t.rows, header)
	}
	return t
}

// Row adds a row; each cell is printed as fmt.Sprint does.
func (t *table) Row(cells ...any) {
	r := make([]string, len(cells))
	for i, c := range cells {
		r[i] = cleanCell(fmt.Sprint(c))
	}
	t.rows = append(t.rows, r)
}

// Flush prints the rows, two spaces between columns, none after the last.
func (t *table) Flush() error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-runewidth.StringWidth(c)+2))
			}
		}
		b.WriteByte('\n')
	}
	t.rows = nil
	_, err := io.WriteString(t.w, b.String())
	return err
}

// cleanCell keeps a value from a list or a server on its line: a tab,
// line break or terminal escape in it is shown as a space, never obeyed.
func cleanCell(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
