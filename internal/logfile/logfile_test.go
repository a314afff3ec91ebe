package logfile

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRotatesBySizeAndKeepsBackups(t *testing.T) {
	path := filepath.Join(t.TempDir(), "logs", "bluemoon.log")
	l, err := Open(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Repeat("x", 39) + "\n") // 40 bytes: two fit, the third rotates
	for i := 0; i < 7; i++ {
		if _, err := l.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	cur, _ := os.ReadFile(path)
	b1, _ := os.ReadFile(path + ".1")
	b2, _ := os.ReadFile(path + ".2")
	if len(cur) != 40 || len(b1) != 80 || len(b2) != 80 {
		t.Fatalf("sizes: current %d, .1 %d, .2 %d; want 40, 80, 80", len(cur), len(b1), len(b2))
	}
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Fatalf(".3 should not exist (2 backups): %v", err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("log mode %v, want 0600", st.Mode().Perm())
	}
}

func TestFollowsRotationByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bluemoon.log")
	a, _ := Open(path, 1<<20, 1)
	b, _ := Open(path, 1<<20, 1)
	a.Write([]byte("one\n"))
	os.Rename(path, path+".1") // as if b's twin in another process had rotated
	a.Write([]byte("two\n"))
	b.Write([]byte("three\n"))
	a.Close()
	b.Close()
	cur, _ := os.ReadFile(path)
	if !bytes.Equal(cur, []byte("two\nthree\n")) {
		t.Fatalf("current log %q, want the lines written after the rotation", cur)
	}
}

func TestStampedWritesWholeLines(t *testing.T) {
	var out bytes.Buffer
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	w := Stamped(&out, func() time.Time { return at }, strings.ToUpper)
	w.Write([]byte("Checked 3 row"))
	w.Write([]byte("(s)\r\nDelivery 5: 3 to send\n\nlast"))
	w.Close()
	want := "2026-11-26T09:00:00.000Z CHECKED 3 ROW(S)\n2026-11-26T09:00:00.000Z DELIVERY 5: 3 TO SEND\n2026-11-26T09:00:00.000Z LAST\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}
