package core

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// Walking the list a page at a time, forwards then back, visits every
// address once, in order, with the right positions; a search narrows the
// count and the pages alike, whatever the case.
func TestSuppressionPagesAndSearch(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, Options{})
	var want []string
	for i := range 250 {
		a := fmt.Sprintf("user%03d@example.com", i)
		if i%50 == 7 {
			a = fmt.Sprintf("Keep%03d@Example.JP", i) // mixed case, another domain
		}
		if _, err := svc.Suppress(ctx, a, "test"); err != nil {
			t.Fatal(err)
		}
		want = append(want, a)
	}
	if n, err := svc.SuppressionCount(ctx); err != nil || n != 250 {
		t.Fatalf("count = %d, %v", n, err)
	}
	var got []*SuppressionPage
	q := SuppressionQuery{Limit: 100}
	for {
		p, err := svc.SuppressionPage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p)
		if p.Total != 250 || p.Offset != 100*(len(got)-1) {
			t.Fatalf("page %d: total %d offset %d", len(got), p.Total, p.Offset)
		}
		if p.Next == "" {
			break
		}
		q.After = p.Next
	}
	if len(got) != 3 || len(got[2].Entries) != 50 || got[0].Prev != "" || got[1].Prev == "" {
		t.Fatalf("pages: %d, last %d entries, prev %q/%q", len(got), len(got[len(got)-1].Entries), got[0].Prev, got[1].Prev)
	}
	var seen []string
	for _, p := range got {
		for _, e := range p.Entries {
			seen = append(seen, e.Addr)
		}
	}
	sorted := append([]string{}, want...)
	sortByKey(sorted)
	if strings.Join(seen, " ") != strings.Join(sorted, " ") {
		t.Fatalf("the pages did not visit every address once, in order")
	}
	// Back from the last page: the middle one again, exactly.
	back, err := svc.SuppressionPage(ctx, SuppressionQuery{Before: got[2].Prev, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if back.Offset != 100 || back.Entries[0].Addr != got[1].Entries[0].Addr || back.Next != got[1].Next || back.Prev != got[1].Prev {
		t.Fatalf("back: offset %d first %s next %q prev %q", back.Offset, back.Entries[0].Addr, back.Next, back.Prev)
	}

	s, err := svc.SuppressionPage(ctx, SuppressionQuery{Search: "EXAMPLE.jp", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if s.Total != 5 || len(s.Entries) != 2 || s.Next == "" || !strings.HasPrefix(s.Entries[0].Addr, "Keep007") {
		t.Fatalf("search: %+v", s)
	}
	// LIKE's wildcards are taken as text.
	if s, err := svc.SuppressionPage(ctx, SuppressionQuery{Search: "user_0"}); err != nil || s.Total != 0 {
		t.Fatalf("search with _: %d, %v", s.Total, err)
	}
}

func sortByKey(a []string) {
	for i := range a {
		for j := i + 1; j < len(a); j++ {
			if recipients.Key(a[j]) < recipients.Key(a[i]) {
				a[i], a[j] = a[j], a[i]
			}
		}
	}
}

// The export holds every entry with its reason and date, and a reason (or
// address) a spreadsheet would run as a formula comes out as text.
func TestSuppressionsCSVNeutralisesFormulas(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, Options{})
	for _, e := range [][2]string{
		{"b@example.com", `=HYPERLINK("http://evil.example","click")`},
		{"a@example.com", "配信停止の依頼"},
		{"=cmd@example.com", "+1"},
	} {
		if _, err := svc.Suppress(ctx, e[0], e[1]); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := svc.SuppressionsCSV(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || strings.Join(recs[0], ",") != "email,reason,added_at" {
		t.Fatalf("csv: %q", recs)
	}
	want := map[string]string{"a@example.com": "配信停止の依頼", "b@example.com": `'=HYPERLINK("http://evil.example","click")`, "'=cmd@example.com": "'+1"}
	for _, r := range recs[1:] {
		if want[r[0]] != r[1] || !strings.Contains(r[2], "T") {
			t.Fatalf("row %q: want reason %q and a date", r, want[r[0]])
		}
	}
}

// An import says which rows were not addresses by their row numbers, and
// counts what was new and what was already there.
func TestImportSuppressionsRowNumbers(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, Options{})
	if _, err := svc.Suppress(ctx, "old@example.com", ""); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "list.csv")
	writeFile(t, path, "name,email\n山田,yamada@example.com\n佐藤,not an address\n古い,OLD@example.com\n")
	res, err := svc.ImportSuppressions(ctx, path, "bounced", ListInput{EmailColumn: "email"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 1 || res.Already != 1 || len(res.Rejected) != 1 || res.Rejected[0].Line != 3 {
		t.Fatalf("import: %+v", res)
	}
	var ae *recipients.AddressError
	if !errors.As(res.Rejected[0].Err, &ae) || strings.Count(res.Rejected[0].String(), "row 3") != 1 {
		t.Fatalf("rejected: %v", res.Rejected[0])
	}
}

// An import is written in batches: every address lands, across batch
// boundaries, and one repeated in the file counts once.
func TestImportSuppressionsInBatches(t *testing.T) {
	ctx := context.Background()
	svc := newService(t, Options{})
	var b strings.Builder
	b.WriteString("email\n")
	for i := range 1234 {
		fmt.Fprintf(&b, "u%04d@example.com\n", i)
	}
	b.WriteString("U0600@example.com\n")
	path := filepath.Join(t.TempDir(), "big.csv")
	writeFile(t, path, b.String())
	res, err := svc.ImportSuppressions(ctx, path, "bulk", ListInput{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := svc.SuppressionCount(ctx); res.Added != 1234 || res.Already != 1 || n != 1234 {
		t.Fatalf("import: %+v, %d on the list", res, n)
	}
}
