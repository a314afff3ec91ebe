package delivery

import (
	"context"
	"testing"
	"time"
)

// BenchmarkRecover1M: resuming a million-row delivery after a crash (ten rows
// left sending) must not cost a pass over every row in Go.
func BenchmarkRecover1M(b *testing.B) {
	db := openDB(b)
	ctx := context.Background()
	if _, err := db.Exec(`INSERT INTO deliveries(id, name, account, status, source, columns_json, template_json, created_at) VALUES (1, 'x', 'a', 'paused', 'l.csv', '[]', '{}', 0)`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1000000)
		INSERT INTO delivery_recipients(delivery_id, row, email, email_key, state, reply)
		SELECT 1, i+1, 'r'||i||'@example.com', 'r'||i||'@example.com', CASE WHEN i % 100000 = 0 THEN 'sending' ELSE 'sent' END, '250 2.0.0 OK queued as abcdef'
		FROM n`); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		rec, err := Recover(ctx, db.DB, 1, false)
		if err != nil {
			b.Fatal(err)
		}
		if len(rec.Unknown) != 10 {
			b.Fatalf("%d unknown", len(rec.Unknown))
		}
		b.ReportMetric(float64(time.Since(t).Milliseconds()), "ms/recover")
	}
}
