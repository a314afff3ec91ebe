//go:build unix

package delivery

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// TestPrepareChild is the child process of TestKilledPreflightLeavesNothing:
// it prepares a delivery from the list in its environment and blocks there.
func TestPrepareChild(t *testing.T) {
	home, list := os.Getenv("BLUEMOON_TEST_PREPARE_HOME"), os.Getenv("BLUEMOON_TEST_PREPARE_LIST")
	if home == "" {
		return // only a child of TestKilledPreflightLeavesNothing does anything here
	}
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	p := plan(list)
	p.ListOptions.Encoding = "utf-8" // detecting it would read the pipe to its end
	Prepare(context.Background(), db.DB, p)
}

// A real process killed (SIGKILL) in the middle of preflight: the list is
// a pipe the test fills past one commit and then stops feeding. What the
// child stored stays hidden, and once its heartbeat is old the next
// 'deliveries list' removes it all.
func TestKilledPreflightLeavesNothing(t *testing.T) {
	home := t.TempDir()
	fifo := filepath.Join(t.TempDir(), "list.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPrepareChild$")
	cmd.Env = append(os.Environ(), "BLUEMOON_TEST_PREPARE_HOME="+home, "BLUEMOON_TEST_PREPARE_LIST="+fifo)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "email,name")
	for i := 1; i <= rowsPerTx+500; i++ {
		fmt.Fprintf(w, "user%d@example.com,User %d\n", i, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Wait for the first commit of rows: the child is then mid-preflight.
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; n < rowsPerTx; {
		if time.Now().After(deadline) {
			t.Fatalf("the child stored %d rows in 30 s", n)
		}
		time.Sleep(10 * time.Millisecond)
		db.QueryRow(`SELECT COUNT(*) FROM delivery_recipients`).Scan(&n)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	ctx := context.Background()
	ds, err := List(ctx, db.DB)
	if err != nil {
		t.Fatal(err)
	}
	var hidden int
	db.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE status = 'preparing'`).Scan(&hidden)
	if len(ds) != 0 || hidden != 1 {
		t.Fatalf("right after the kill: %d listed, %d hidden; want 0 listed, 1 hidden (its heartbeat is fresh)", len(ds), hidden)
	}
	if _, err := RequestPause(ctx, db.DB, 1); err == nil {
		t.Error("the half-prepared delivery could be paused (and so resumed)")
	}

	defer func(d time.Duration) { AbandonedAfter = d }(AbandonedAfter)
	AbandonedAfter = 0 // as if its heartbeat were old
	time.Sleep(2 * time.Millisecond)
	if _, err := List(ctx, db.DB); err != nil {
		t.Fatal(err)
	}
	var deliveries, rows int
	db.QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&deliveries)
	db.QueryRow(`SELECT COUNT(*) FROM delivery_recipients`).Scan(&rows)
	if deliveries != 0 || rows != 0 {
		t.Errorf("after cleanup: %d deliveries, %d recipient rows left; want none", deliveries, rows)
	}
}

// A preflight stood still (the list is a pipe that stops, as a computer
// that sleeps) long enough for another process to remove its delivery as
// abandoned, then goes on: it stores no row for the delivery that is gone
// and says why. The import does not rely on the rows' foreign key for it.
func TestPreflightWhoseDeliveryWasRemovedStoresNothing(t *testing.T) {
	home := t.TempDir()
	fifo := filepath.Join(t.TempDir(), "list.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	db, err := store.Open(context.Background(), home)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	done := make(chan error, 1)
	go func() {
		p := plan(fifo)
		p.ListOptions.Encoding = "utf-8" // detecting it would read the pipe to its end
		_, err := Prepare(context.Background(), db.DB, p)
		done <- err
	}()
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "email,name")
	row := 0
	more := func(n int) error {
		for range n {
			row++
			fmt.Fprintf(w, "user%d@example.com,User %d\n", row, row)
		}
		return w.Flush()
	}
	// Exactly the rows of the first commit: the preflight then waits for
	// the pipe with no write under way, so the removal below can go in.
	first := (rowsPerTx/insertChunk + 1) * insertChunk
	if err := more(first); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; n < first; {
		if time.Now().After(deadline) {
			t.Fatalf("the preflight stored %d rows in 30 s", n)
		}
		time.Sleep(10 * time.Millisecond)
		db.QueryRow(`SELECT COUNT(*) FROM delivery_recipients`).Scan(&n)
	}
	// What RemoveAbandoned does once the heartbeat is old.
	if _, err := db.Exec(`DELETE FROM deliveries WHERE status = 'preparing'`); err != nil {
		t.Fatal(err)
	}
	more(3 * insertChunk) // the preflight may have stopped reading already
	f.Close()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the preflight did not end")
	}
	if err == nil || !strings.Contains(err.Error(), "was removed while it was being prepared") {
		t.Errorf("preflight error: %v; want one saying the delivery was removed while it was being prepared", err)
	}
	var deliveries, rows int
	db.QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&deliveries)
	db.QueryRow(`SELECT COUNT(*) FROM delivery_recipients`).Scan(&rows)
	if deliveries != 0 || rows != 0 {
		t.Errorf("%d deliveries and %d recipient rows left; want none (rows of no delivery are never cleaned)", deliveries, rows)
	}
}
