package delivery

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// insertPreparing stands for what a process killed in preflight leaves:
// a hidden 'preparing' delivery, its attachment and some of its rows,
// last stamped at heartbeat.
func insertPreparing(t *testing.T, db *sql.DB, heartbeat time.Time) int64 {
	t.Helper()
	ms := heartbeat.UnixMilli()
	res, err := db.Exec(`INSERT INTO deliveries(name, account, status, source, columns_json, template_json, created_at, heartbeat)
		VALUES ('half', 'acct', 'preparing', 'list.csv', '["email"]', '{}', ?, ?)`, ms, ms)
	if err != nil {
		t.Fatal(err)
	}
	id, _ := res.LastInsertId()
	if _, err := db.Exec(`INSERT INTO delivery_attachments(delivery_id, position, filename, content_type, data) VALUES (?, 0, 'a.txt', 'text/plain', x'00')`, id); err != nil {
		t.Fatal(err)
	}
	for i := 2; i < 12; i++ {
		if _, err := db.Exec(`INSERT INTO delivery_recipients(delivery_id, row, email, email_key, state) VALUES (?, ?, ?, ?, 'pending')`,
			id, i, "x@example.com"+string(rune('a'+i)), "x@example.com"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func rowsOf(t *testing.T, db *sql.DB, id int64) (deliveries, recipients, attachments int) {
	t.Helper()
	for _, q := range []struct {
		sql string
		n   *int
	}{
		{`SELECT COUNT(*) FROM deliveries WHERE id = ?`, &deliveries},
		{`SELECT COUNT(*) FROM delivery_recipients WHERE delivery_id = ?`, &recipients},
		{`SELECT COUNT(*) FROM delivery_attachments WHERE delivery_id = ?`, &attachments},
	} {
		if err := db.QueryRow(q.sql, id).Scan(q.n); err != nil {
			t.Fatal(err)
		}
	}
	return
}

// A delivery left half-imported by a killed preflight is removed, rows and
// all, by the next 'deliveries list' and by the next preflight; one whose
// preflight is still alive (a recent heartbeat) is left alone.
func TestHalfPreparedLeftoversRemoved(t *testing.T) {
	for _, by := range []string{"list", "prepare"} {
		t.Run(by, func(t *testing.T) {
			db := openDB(t)
			ctx := context.Background()
			dead := insertPreparing(t, db.DB, time.Now().Add(-AbandonedAfter-time.Minute))
			live := insertPreparing(t, db.DB, time.Now().Add(-time.Minute))
			switch by {
			case "list":
				ds, err := List(ctx, db.DB)
				if err != nil {
					t.Fatal(err)
				}
				if len(ds) != 0 {
					t.Errorf("list shows %d deliveries, want none (both are hidden)", len(ds))
				}
			case "prepare":
				pf, err := Prepare(ctx, db.DB, plan(writeList(t, "l.csv", listOf(3))))
				if err != nil {
					t.Fatal(err)
				}
				if pf.Ready != 3 {
					t.Errorf("ready %d, want 3", pf.Ready)
				}
			}
			if d, r, a := rowsOf(t, db.DB, dead); d+r+a != 0 {
				t.Errorf("the leftover is still there: %d delivery, %d recipient rows, %d attachments", d, r, a)
			}
			if d, r, a := rowsOf(t, db.DB, live); d != 1 || r != 10 || a != 1 {
				t.Errorf("a live preflight's delivery was touched: %d delivery, %d recipient rows, %d attachments", d, r, a)
			}
		})
	}
}

// Pause and cancel refuse a delivery still being prepared: turned paused or
// cancelled, a half-imported list would become visible, resumable and
// never cleaned up.
func TestPauseAndCancelRefuseAPreparingDelivery(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	id := insertPreparing(t, db.DB, time.Now())
	if _, err := RequestPause(ctx, db.DB, id); err == nil {
		t.Error("pause of a preparing delivery succeeded")
	}
	if _, err := RequestCancel(ctx, db.DB, id); err == nil {
		t.Error("cancel of a preparing delivery succeeded")
	}
	var status string
	if err := db.QueryRow(`SELECT status FROM deliveries WHERE id = ?`, id).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != "preparing" {
		t.Errorf("status %q, want preparing", status)
	}
}
