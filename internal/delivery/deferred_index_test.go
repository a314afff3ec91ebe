package delivery

import (
	"context"
	"strings"
	"testing"
	"time"
)

// The ledger's queries for deferred rows use the partial index on them:
// without it each read every row of the delivery (no index on state), at
// every commit near a run's end and at every retry time.
func TestDeferredQueriesUseTheirIndex(t *testing.T) {
	db := openDB(t)
	for _, q := range []string{selDueSQL, nextTrySQL} {
		rows, err := db.Query(`EXPLAIN QUERY PLAN `+q, 1, 0)
		if q == nextTrySQL {
			rows, err = db.Query(`EXPLAIN QUERY PLAN `+q, 1)
		}
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, "INDEX delivery_recipients_deferred") || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("%s\nplan: %s", q, got)
		}
	}
}

// BenchmarkDeferredQueries1M: what one ask for the deferred rows due costs
// a delivery of a million rows, ten of them deferred.
func BenchmarkDeferredQueries1M(b *testing.B) {
	db := openDB(b)
	ctx := context.Background()
	if _, err := db.Exec(`INSERT INTO deliveries(id, name, account, status, source, columns_json, template_json, created_at) VALUES (1, 'x', 'a', 'running', 'l.csv', '[]', '{}', 0)`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1000000)
		INSERT INTO delivery_recipients(delivery_id, row, email, email_key, fields, state, next_try, reply)
		SELECT 1, i+1, 'r'||i||'@example.com', 'r'||i||'@example.com', randomblob(40),
			CASE WHEN i % 100000 = 0 THEN 'deferred' ELSE 'sent' END, CASE WHEN i % 100000 = 0 THEN i ELSE 0 END, ''
		FROM n`); err != nil {
		b.Fatal(err)
	}
	due, err := db.Prepare(selDueSQL)
	if err != nil {
		b.Fatal(err)
	}
	next, err := db.Prepare(nextTrySQL)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rows, err := due.QueryContext(ctx, 1, time.Now().UnixMilli())
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		var first int64
		if err := next.QueryRowContext(ctx, 1).Scan(&first); err != nil {
			b.Fatal(err)
		}
		if n != 10 || first != 100000 {
			b.Fatalf("%d due, first retry %d", n, first)
		}
	}
}
