package delivery

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// bigDelivery stores delivery 2 with n recipient rows behind another
// delivery's rows, every seventh failed, and returns the database.
func bigDelivery(tb testing.TB, n int) *store.DB {
	tb.Helper()
	db := openDB(tb)
	for id := 1; id <= 2; id++ {
		if _, err := db.Exec(`INSERT INTO deliveries(id, name, account, status, source, columns_json, template_json, created_at)
			VALUES (?, 'x', 'a', 'done', 'l.csv', '[]', '{}', 0)`, id); err != nil {
			tb.Fatal(err)
		}
		if _, err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < ?)
			INSERT INTO delivery_recipients(delivery_id, row, email, email_key, state, reply, updated_at)
			SELECT ?, i+1, 'r'||i||'@example.com', 'r'||i||'@example.com', CASE WHEN i % 7 = 0 THEN 'failed' ELSE 'sent' END, '250 OK', 1000
			FROM n`, n, id); err != nil {
			tb.Fatal(err)
		}
	}
	return db
}

func TestQueryReportPagesFiltersAndSearches(t *testing.T) {
	db := bigDelivery(t, 1000)
	ctx := context.Background()
	var seen []int
	q := ReportQuery{Limit: 300}
	for {
		p, err := QueryReport(ctx, db.DB, 2, q)
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 1000 {
			t.Fatalf("total %d", p.Total)
		}
		for _, r := range p.Rows {
			seen = append(seen, r.Row)
		}
		if p.Next == 0 {
			break
		}
		q.After = p.Next
	}
	if len(seen) != 1000 || seen[0] != 2 || seen[999] != 1001 {
		t.Fatalf("pages gave %d rows, first %d last %d", len(seen), seen[0], seen[len(seen)-1])
	}
	p, err := QueryReport(ctx, db.DB, 2, ReportQuery{States: []string{"failed"}, Offset: 10, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 142 || len(p.Rows) != 5 || p.Rows[0].Email != "r77@example.com" || p.Rows[0].State != "failed" {
		t.Fatalf("failed page: total %d rows %+v", p.Total, p.Rows)
	}
	p, err = QueryReport(ctx, db.DB, 2, ReportQuery{Search: "R99@"})
	if err != nil || p.Total != 1 || p.Rows[0].Email != "r99@example.com" {
		t.Fatalf("search: %v %+v", err, p)
	}
	// LIKE's wildcards in the search are plain characters.
	if p, err := QueryReport(ctx, db.DB, 2, ReportQuery{Search: "r_9@"}); err != nil || p.Total != 0 {
		t.Fatalf("search with _: %v %+v", err, p)
	}
	if _, err := QueryReport(ctx, db.DB, 2, ReportQuery{States: []string{"bounced"}}); err == nil {
		t.Fatal("an unknown outcome was accepted")
	}
	if _, err := QueryReport(ctx, db.DB, 9, ReportQuery{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing delivery: %v", err)
	}
	if n, err := RecentlyDone(ctx, db.DB, 2, time.UnixMilli(1000)); err != nil || n != 1000 {
		t.Fatalf("recently done %d %v", n, err)
	}
}

func TestDiscardOnlyAnUnstartedDelivery(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	ready := prepared(t, db, StatusReady, "", "pending")
	started := prepared(t, db, StatusPaused, "", "sent", "pending")
	db.Exec(`UPDATE deliveries SET started_at = 5 WHERE id = ?`, started)
	if err := Discard(ctx, db.DB, ready); err != nil {
		t.Fatal(err)
	}
	if _, err := Get(ctx, db.DB, ready); !errors.Is(err, ErrNotFound) {
		t.Fatalf("discarded delivery still there: %v", err)
	}
	if err := Discard(ctx, db.DB, started); !errors.Is(err, ErrStarted) {
		t.Fatalf("discard of a started delivery: %v", err)
	}
}

// BenchmarkQueryReport100k: a console page of a 100,000-row report,
// filtered and searched, deep in the list, must stay interactive.
func BenchmarkQueryReport100k(b *testing.B) {
	db := bigDelivery(b, 100_000)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		q    ReportQuery
	}{
		{"first", ReportQuery{}},
		{"deep-keyset", ReportQuery{After: 190_000}},
		{"failed", ReportQuery{States: []string{"failed"}, Offset: 10_000}},
		{"search", ReportQuery{Search: "r9999"}},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := QueryReport(ctx, db.DB, 2, c.q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
