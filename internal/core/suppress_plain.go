package core

import (
	"bufio"
	"context"
	"os"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/fileerr"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// A do-not-mail file is often a plain list: one address per line, no
// header row. Read as a table, its first address would pass for a column
// name; a face shows it as what it is instead.

// PlainList is what a plain address file holds.
type PlainList struct {
	Addresses int            // lines that are addresses
	Sample    []string       // the first few of them
	Rejected  []RejectedLine // lines that are not addresses (the first maxPlainRejected)
	Bad       int            // how many lines are not addresses
}

const (
	plainSample      = 5
	maxPlainRejected = 100
)

// InspectPlainList reads path as ImportSuppressions would when it is a
// plain list (its first line an address or a # comment); nil when it is
// a table with a header row, to be read with InspectList.
func (s *Service) InspectPlainList(ctx context.Context, path string) (*PlainList, error) {
	if !plainList(path) {
		return nil, nil
	}
	p := &PlainList{}
	err := eachPlainLine(path, func(line int, a string) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := recipients.CheckAddress(a); err != nil {
			p.Bad++
			if len(p.Rejected) < maxPlainRejected {
				p.Rejected = append(p.Rejected, RejectedLine{Line: line, Err: err})
			}
			return nil
		}
		p.Addresses++
		if len(p.Sample) < plainSample {
			p.Sample = append(p.Sample, a)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// eachPlainLine calls fn with each line of a plain list that is neither
// blank nor a # comment, numbered from 1.
func eachPlainLine(path string, fn func(line int, addr string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fieldErr("file", "unreadable", "%w", fileerr.Explain(err))
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if a := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff")); a != "" && !strings.HasPrefix(a, "#") {
			if err := fn(n, a); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}
