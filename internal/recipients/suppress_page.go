package recipients

import (
	"context"
	"strings"
	"time"
)

// A page of the suppression list for a screen: by address, a keyset cursor
// (the address key a page ends at) instead of an offset, so the page at
// address 90,000 costs what the first does.

// SuppressionQuery selects a page of the list.
type SuppressionQuery struct {
	Search string // only addresses containing this, case-insensitively
	// After is the keyset cursor for the next page: the Next of the page
	// before. Before is the one for the previous page: the Prev of the
	// page after. Neither: the first page.
	After, Before string
	Limit         int // entries per page: default 100, at most 1000
}

// SuppressionPage is one page of the list, by address.
type SuppressionPage struct {
	Entries []Suppressed `json:"entries"`
	Total   int          `json:"total"`  // entries matching the query, on every page
	Offset  int          `json:"offset"` // matching entries before this page
	// Next is After for the next page, Prev Before for the previous one;
	// "" when there is none.
	Next string `json:"next,omitempty"`
	Prev string `json:"prev,omitempty"`
}

// Count is how many addresses are on the list.
func (s *Suppressions) Count(ctx context.Context) (int, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM suppressions`).Scan(&n)
	return n, err
}

// Page reads one page of the list.
func (s *Suppressions) Page(ctx context.Context, q SuppressionQuery) (*SuppressionPage, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	where, args := `1`, []any{}
	if q.Search = strings.TrimSpace(q.Search); q.Search != "" {
		// addr_key is the address in lower case: lower the search the
		// same way and LIKE needs no case folding of its own.
		where += ` AND addr_key LIKE ? ESCAPE '\'`
		args = append(args, "%"+likeEscaper.Replace(Key(q.Search))+"%")
	}
	page := &SuppressionPage{Entries: []Suppressed{}}
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM suppressions WHERE `+where, args...).Scan(&page.Total); err != nil {
		return nil, err
	}
	pageWhere, pageArgs, order := where, append([]any{}, args...), `ASC`
	switch {
	case q.After != "":
		pageWhere += ` AND addr_key > ?`
		pageArgs = append(pageArgs, q.After)
	case q.Before != "":
		pageWhere += ` AND addr_key < ?`
		pageArgs = append(pageArgs, q.Before)
		order = `DESC`
	}
	rows, err := s.DB.QueryContext(ctx, `SELECT addr_key, addr, reason, added_at FROM suppressions WHERE `+pageWhere+
		` ORDER BY addr_key `+order+` LIMIT ?`, append(pageArgs, q.Limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var e Suppressed
		var key string
		var at int64
		if err := rows.Scan(&key, &e.Addr, &e.Reason, &at); err != nil {
			return nil, err
		}
		e.AddedAt = time.UnixMilli(at).UTC()
		page.Entries = append(page.Entries, e)
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if order == `DESC` {
		for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
			keys[i], keys[j] = keys[j], keys[i]
			page.Entries[i], page.Entries[j] = page.Entries[j], page.Entries[i]
		}
	}
	if len(keys) == 0 {
		return page, nil
	}
	first, last := keys[0], keys[len(keys)-1]
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM suppressions WHERE `+where+` AND addr_key < ?`,
		append(args, first)...).Scan(&page.Offset); err != nil {
		return nil, err
	}
	if page.Offset > 0 {
		page.Prev = first
	}
	if page.Offset+len(keys) < page.Total {
		page.Next = last
	}
	return page, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
