package recipients

import (
	"context"
	"errors"
	"hash/maphash"
	"io"
	"strings"
)

// Inspect reads a whole list once, as a person checks it before a
// delivery: its format, columns and first rows, how many rows are valid,
// every bad row with its number and reason, duplicates and suppressed
// addresses counted. Nothing is stored; memory stays small (an 8-byte
// hash per address for the duplicate check).

// Summary is what Inspect found.
type Summary struct {
	Format   string // "csv", "tsv" or "xlsx"
	Encoding string // "utf-8", "shift_jis" or "xlsx"
	Sheet    string
	Sheets   []string
	Columns  []string
	// EmailColumn is the address column: the one asked for, else one
	// found by its name or its cells; "" when none could be told (then
	// only Columns and Sample are filled in).
	EmailColumn string
	Sample      []SampleRow // the first rows, as they are
	Rows        int         // data rows (blank lines aside)
	Valid       int         // rows to send to: valid, neither duplicate nor suppressed
	Duplicates  int
	Suppressed  int
	Problems    []*RowError // the first InspectOptions.MaxProblems
	ProblemRows int         // every row with a problem
}

// SampleRow is one row of the list as it is written.
type SampleRow struct {
	Number int
	Cells  []string
}

// InspectOptions bound what Inspect keeps and say how to check suppression.
type InspectOptions struct {
	SampleRows  int // default 5
	MaxProblems int // default 1000
	// Suppressed reports whether an address key (Key) is suppressed; nil
	// counts none.
	Suppressed func(ctx context.Context, key string) (bool, error)
}

// emailNames are column names taken for the address, compared without
// case, spaces, hyphens and underscores.
var emailNames = []string{"email", "emailaddress", "mail", "mailaddress", "e-mail", "メール", "メールアドレス", "eメール", "ｅメール", "アドレス", "宛先"}

// Inspect reads the list at path. opts.EmailColumn "" finds the column.
func Inspect(ctx context.Context, path string, opts Options, o InspectOptions) (*Summary, error) {
	if o.SampleRows <= 0 {
		o.SampleRows = 5
	}
	if o.MaxProblems <= 0 {
		o.MaxProblems = 1000
	}
	if opts.EmailColumn == "" {
		col, err := findEmailColumn(path, opts)
		if err != nil {
			return nil, err
		}
		if col == "" {
			return sampleOnly(path, opts, o.SampleRows)
		}
		opts.EmailColumn = col
	}
	r, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := summaryOf(r, path)
	s.EmailColumn = r.Header()[r.EmailIndex()]
	seed := maphash.MakeSeed()
	seen := map[uint64]struct{}{}
	for n := 0; ; n++ {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		row, err := r.Next()
		if err == io.EOF {
			return s, nil
		}
		s.Rows++
		if len(s.Sample) < o.SampleRows && row.Fields != nil {
			s.Sample = append(s.Sample, SampleRow{Number: row.Number, Cells: append([]string(nil), row.Fields...)})
		}
		var re *RowError
		if errors.As(err, &re) {
			s.ProblemRows++
			if len(s.Problems) < o.MaxProblems {
				s.Problems = append(s.Problems, re)
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		key := Key(row.Email)
		h := maphash.String(seed, key)
		if _, dup := seen[h]; dup {
			s.Duplicates++
			continue
		}
		seen[h] = struct{}{}
		if o.Suppressed != nil {
			sup, err := o.Suppressed(ctx, key)
			if err != nil {
				return nil, err
			}
			if sup {
				s.Suppressed++
				continue
			}
		}
		s.Valid++
	}
}

func summaryOf(r *Reader, path string) *Summary {
	s := &Summary{Encoding: r.Encoding, Sheet: r.Sheet, Sheets: r.Sheets, Columns: r.Header(), Format: "csv"}
	switch {
	case r.x != nil:
		s.Format = "xlsx"
	case r.Comma == '\t':
		s.Format = "tsv"
	}
	return s
}

// findEmailColumn is the column named like an address column, else the
// one whose first cells are addresses; "" when there is none.
func findEmailColumn(path string, opts Options) (string, error) {
	opts.headerOnly = true
	r, err := Open(path, opts)
	if err != nil {
		return "", err
	}
	defer r.Close()
	norm := func(s string) string {
		return strings.NewReplacer(" ", "", "　", "", "_", "", "-", "").Replace(strings.ToLower(strings.TrimSpace(s)))
	}
	for _, want := range emailNames {
		for _, h := range r.Header() {
			if norm(h) == norm(want) {
				return h, nil
			}
		}
	}
	hits := make([]int, len(r.Header()))
	rows := 0
	for rows < 20 {
		row, err := r.Next()
		if err != nil {
			break
		}
		rows++
		for i, c := range row.Fields {
			if CheckAddress(strings.TrimSpace(c)) == nil {
				hits[i]++
			}
		}
	}
	best := -1
	for i, n := range hits {
		if n*2 > rows && (best < 0 || n > hits[best]) {
			best = i
		}
	}
	if best < 0 {
		return "", nil
	}
	return r.Header()[best], nil
}

// sampleOnly is the summary of a list whose address column is not known:
// its columns and first rows, for a person to choose the column.
func sampleOnly(path string, opts Options, n int) (*Summary, error) {
	opts.headerOnly = true
	r, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	s := summaryOf(r, path)
	for len(s.Sample) < n {
		row, err := r.Next()
		if err != nil {
			break
		}
		s.Sample = append(s.Sample, SampleRow{Number: row.Number, Cells: append([]string(nil), row.Fields...)})
	}
	return s, nil
}

// ReadHeader opens a list only to read its header: columns, encoding,
// separator, sheets. No address column is needed.
func ReadHeader(path string, opts Options) (*Summary, error) {
	return sampleOnly(path, opts, 0)
}
