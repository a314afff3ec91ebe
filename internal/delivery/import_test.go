package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/recipients"
	"github.com/bluemoon-mail/bluemoon/internal/store/storetest"
)

// Rows go to the database insertChunk at a time: the counts, the report's
// order and what is sent must be those of the list row by row, whether a
// chunk holds repeats (of rows in it or in an earlier one), suppressed
// addresses, rows with problems, or all of them. Rows 320–383 are a chunk
// of rows to send and repeats only, which has a statement of its own.
func TestImportInChunksKeepsCountsAndOrder(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	sup := &recipients.Suppressions{DB: db.DB}
	for _, a := range []string{"u150@example.com", "u151@example.com", "U290@example.com"} {
		if _, err := sup.Add(ctx, a, "unsubscribed"); err != nil {
			t.Fatal(err)
		}
	}
	var list strings.Builder
	list.WriteString("email,name\n")
	var want []string // expected state of each stored row, in list order
	seen := map[string]bool{}
	ready, dups, suppressed, problems := 0, 0, 0, 0
	for i := 0; i < 400; i++ {
		addr := fmt.Sprintf("u%d@example.com", i)
		switch {
		case i%97 == 5:
			addr = "not-an-address"
		case i >= 10 && i%10 == 0:
			addr = fmt.Sprintf("U%d@Example.com", i-7) // a repeat: in this chunk or an earlier one
		case i == 160:
			addr = "u151@example.com" // a repeat of a suppressed address
		}
		fmt.Fprintf(&list, "%s,Name %d\n", addr, i)
		key := strings.ToLower(addr)
		switch {
		case addr == "not-an-address":
			problems++
			want = append(want, stateSkipped)
		case seen[key]:
			dups++
		case key == "u150@example.com" || key == "u151@example.com" || key == "u290@example.com":
			seen[key] = true
			suppressed++
			want = append(want, stateSuppressed)
		default:
			seen[key] = true
			ready++
			want = append(want, statePending)
		}
	}
	p := plan(writeList(t, "l.csv", list.String()))
	p.SkipInvalid = true
	pf, err := Prepare(ctx, db.DB, p)
	if err != nil {
		t.Fatal(err)
	}
	if pf.Rows != 400 || pf.Ready != ready || pf.Duplicates != dups || pf.Suppressed != suppressed || pf.ProblemCount != problems {
		t.Fatalf("preflight %+v; want ready %d, duplicates %d, suppressed %d, problems %d", pf, ready, dups, suppressed, problems)
	}
	if got := statesOf(t, db, pf.DeliveryID); !equal(got, want) {
		t.Fatalf("stored states, in list order:\n got %v\nwant %v", got, want)
	}
	lastRow := 0
	Report(ctx, db.DB, pf.DeliveryID, func(o Outcomes) error {
		if o.Row <= lastRow {
			t.Errorf("row %d reported after row %d", o.Row, lastRow)
		}
		lastRow = o.Row
		return nil
	})

	// The preflight stores the rows' counts with the delivery, and its
	// first run starts from them instead of counting every row; what the
	// run reports at the end still matches the rows.
	var stamp string
	if err := db.QueryRow(`SELECT progress FROM deliveries WHERE id = ?`, pf.DeliveryID).Scan(&stamp); err != nil {
		t.Fatal(err)
	}
	var sp stampedProgress
	if err := json.Unmarshal([]byte(stamp), &sp); err != nil {
		t.Fatalf("stored counts %q: %v", stamp, err)
	}
	countsMatchJournal(t, db.DB, pf.DeliveryID, sp.Counts)
	other, counted := storetest.CountingHandle(t, db, "GROUP BY state")
	e := &Engine{DB: other, Dial: dialer(startServer(t, nil)), Opts: fastOpts()}
	out, err := e.Run(ctx, pf.DeliveryID)
	if err != nil {
		t.Fatal(err)
	}
	if n := counted.Load(); n != 0 || out.Status != StatusDone || out.Counts.Sent != ready {
		t.Errorf("first run: counted every row %d time(s), outcome %s, %d sent; want 0, done, %d", n, out.Status, out.Counts.Sent, ready)
	}
	countsMatchJournal(t, db.DB, pf.DeliveryID, out.Counts)
}

// The import turns the rows' foreign key check off on its connection (it
// checks the delivery itself); the connection goes back to the pool with
// it on, or removing a delivery there would leave its rows behind.
func TestImportGivesItsConnectionBackWithForeignKeysOn(t *testing.T) {
	db := openDB(t)
	db.SetMaxOpenConns(1) // the import's connection is the one used next
	ctx := context.Background()
	pf, err := Prepare(ctx, db.DB, plan(writeList(t, "l.csv", "email,name\na@example.com,A\nb@example.com,B\n")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`DELETE FROM deliveries WHERE id = ?`, pf.DeliveryID); err != nil {
		t.Fatal(err)
	}
	var rows int
	db.QueryRow(`SELECT COUNT(*) FROM delivery_recipients`).Scan(&rows)
	if rows != 0 {
		t.Errorf("%d recipient rows left after their delivery was removed; want none", rows)
	}
}
