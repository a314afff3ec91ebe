package core

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// The suppression list: addresses never mailed (unsubscribed, bounced,
// asked not to be). Every delivery leaves them out.

func (s *Service) suppressions() *recipients.Suppressions {
	return &recipients.Suppressions{DB: s.db.DB}
}

// Suppress adds an address; added is false when it already was on the
// list (the first entry is kept). A malformed address is a *FieldError.
func (s *Service) Suppress(ctx context.Context, addr, reason string) (added bool, err error) {
	added, err = s.suppressions().Add(ctx, addr, reason)
	if err != nil {
		return false, &FieldError{Field: "address", Code: CodeInvalid, Message: err.Error(), Err: err}
	}
	return added, nil
}

// Unsuppress takes an address off the list; removed is false when it was
// not on it.
func (s *Service) Unsuppress(ctx context.Context, addr string) (removed bool, err error) {
	return s.suppressions().Remove(ctx, addr)
}

// Suppressed calls fn for every suppressed address, by address.
func (s *Service) Suppressed(ctx context.Context, fn func(recipients.Suppressed) error) error {
	return s.suppressions().List(ctx, fn)
}

// SuppressImport is what ImportSuppressions did.
type SuppressImport struct {
	Added, Already int
	// Rejected lists the lines (or list rows) that were not addresses.
	Rejected []RejectedLine
}

// RejectedLine is a line of an imported file that is not an address.
type RejectedLine struct {
	Line int // line, or row of a list (header = 1)
	// Err says why: a *recipients.RowError (which names the row itself)
	// or a *recipients.AddressError.
	Err error
}

func (r RejectedLine) String() string {
	var re *recipients.RowError
	if r.Line == 0 || errors.As(r.Err, &re) {
		return r.Err.Error()
	}
	return fmt.Sprintf("line %d: %v", r.Line, r.Err)
}

// ImportSuppressions adds every address of a file: a list with an email
// column (read as deliveries read lists), or one address per line (lines
// starting with # are comments).
func (s *Service) ImportSuppressions(ctx context.Context, path, reason string, list ListInput) (*SuppressImport, error) {
	res := &SuppressImport{}
	add := s.suppressions().Adder(500)
	defer add.Abort()
	addOne := func(line int, a string) error {
		ok, err := add.Add(ctx, a, reason)
		var ae *recipients.AddressError
		switch {
		case err != nil && !errors.As(err, &ae):
			return err
		case err != nil:
			res.Rejected = append(res.Rejected, RejectedLine{Line: line, Err: err})
		case ok:
			res.Added++
		default:
			res.Already++
		}
		return nil
	}
	if plainList(path) {
		if err := eachPlainLine(path, addOne); err != nil {
			return nil, err
		}
		return res, add.Close()
	}
	list.Path = path
	lo, err := list.options()
	if err != nil {
		return nil, err
	}
	r, err := recipients.Open(path, lo)
	if err != nil {
		return nil, fieldErr("file", CodeInvalid, "%w", err)
	}
	defer r.Close()
	for {
		row, err := r.Next()
		if err == io.EOF {
			return res, add.Close()
		}
		var re *recipients.RowError
		if errors.As(err, &re) {
			res.Rejected = append(res.Rejected, RejectedLine{Line: re.Row, Err: err})
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := addOne(row.Number, row.Email); err != nil {
			return nil, err
		}
	}
}

// plainList reports whether path looks like one address per line (its
// first line is an address, not a header).
func plainList(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	line = strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
	return addressShaped(line) || strings.HasPrefix(line, "#") && !strings.ContainsAny(line, ",\t")
}

// addressShaped: s is an address, or one only too long to be (a header
// is neither).
func addressShaped(s string) bool {
	var ae *recipients.AddressError
	err := recipients.CheckAddress(s)
	return err == nil || errors.As(err, &ae) && (ae.Code == recipients.CodeLocalTooLong || ae.Code == recipients.CodeTooLong)
}
