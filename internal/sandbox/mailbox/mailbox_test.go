package mailbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const jaMessage = "From: =?UTF-8?B?5LqL5YuZ5bGA?= <office@example.jp>\r\n" +
	"To: member@example.net\r\n" +
	"Subject: =?ISO-2022-JP?B?GyRCJDRNeE1RTEA6WRsoQg==?=\r\n" +
	"Content-Type: text/plain; charset=utf-8\r\n\r\n" +
	"本文です\r\n"

func TestDeliverListGetAcrossReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "inbox")
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 3 {
		id, err := s.Deliver(Envelope{Server: "relay-smtp", From: "office@example.jp", To: []string{fmt.Sprintf("m%d@example.net", i)}, At: base.Add(time.Duration(i) * time.Minute)}, []byte(jaMessage))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if fi, err := os.Stat(filepath.Join(dir, ids[0]+ext)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("a stored message: %v %v", fi, err)
	}
	// A new Store over the same folder (a restart) sees them all.
	s, _ = Open(dir, 0)
	page, total, err := s.List(0, 2)
	if err != nil || total != 3 || len(page) != 2 {
		t.Fatalf("list: %d of %d, %v", len(page), total, err)
	}
	if page[0].ID != ids[2] || page[1].ID != ids[1] {
		t.Fatalf("not newest first: %s %s", page[0].ID, page[1].ID)
	}
	if page[0].Subject != "ご利用明細" || page[0].From != "事務局 <office@example.jp>" || page[0].Envelope.To[0] != "m2@example.net" {
		t.Fatalf("decoded summary: %+v", page[0])
	}
	rest, _, _ := s.List(2, 2)
	if len(rest) != 1 || rest[0].ID != ids[0] {
		t.Fatalf("second page: %+v", rest)
	}
	m, err := s.Get(ids[0])
	if err != nil || m.Decoded.Text != "本文です\n" || string(m.Raw) != jaMessage {
		t.Fatalf("get: %v %+v", err, m)
	}
	for _, bad := range []string{"../../etc/passwd", ids[0] + "x", "", strings.ToUpper(ids[0])} {
		if _, err := s.Get(bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", bad, err)
		}
	}
	n, err := s.Empty()
	if err != nil || n != 3 {
		t.Fatalf("empty: %d %v", n, err)
	}
	if c, _ := s.Count(); c != 0 {
		t.Fatalf("%d left after emptying", c)
	}
}

// Beyond its bound the mailbox drops the oldest; a message it cannot
// decode is still listed, with why.
func TestOldestDroppedBeyondMaxAndUndecodableKept(t *testing.T) {
	s, err := Open(t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	var ids []string
	for i := range 5 {
		id, err := s.Deliver(Envelope{Server: "graph", To: []string{"x@example.net"}, At: base.Add(time.Duration(i) * time.Second)}, []byte(jaMessage))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	page, total, _ := s.List(0, 10)
	if total != 3 || page[2].ID != ids[2] {
		t.Fatalf("kept %d, oldest kept %s, want %s", total, page[len(page)-1].ID, ids[2])
	}
	if _, err := s.Get(ids[0]); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the oldest was not dropped: %v", err)
	}
	id, _ := s.Deliver(Envelope{Server: "relay-smtp", At: base.Add(time.Hour)}, []byte("no header separator at all"))
	page, _, _ = s.List(0, 1)
	if page[0].ID != id || page[0].Problem == "" {
		t.Fatalf("an undecodable message: %+v", page[0])
	}
}

// Newer counts what arrived after a message the page showed, by arrival.
func TestNewerCountsArrivalsAfterAMessage(t *testing.T) {
	s, err := Open(t.TempDir(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if n, newest, err := s.Newer(""); n != 0 || newest != "" || err != nil {
		t.Fatalf("empty: %d %q %v", n, newest, err)
	}
	base := time.Now()
	var ids []string
	for i := range 4 {
		id, err := s.Deliver(Envelope{Server: "relay-smtp", At: base.Add(time.Duration(i) * time.Second)}, []byte("Subject: x\r\n\r\nx\r\n"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, c := range []struct {
		since string
		want  int
	}{{"", 4}, {ids[0], 3}, {ids[2], 1}, {ids[3], 0}} {
		if n, newest, err := s.Newer(c.since); n != c.want || newest != ids[3] || err != nil {
			t.Errorf("since %q: %d (want %d), newest %q, %v", c.since, n, c.want, newest, err)
		}
	}
}

// One file cut short or overwritten on disk is that message's trouble
// alone: the list still has every other message, and the damaged one's
// line and Get name the file and say why.
func TestDamagedFileIsListedAndTheRestStillRead(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 4 {
		id, err := s.Deliver(Envelope{Server: "relay-smtp", To: []string{"m@example.net"}, At: base.Add(time.Duration(i) * time.Minute)}, []byte(jaMessage))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// ids[1] cut short inside its envelope line, ids[2] overwritten with
	// what is not an envelope at all.
	cut := filepath.Join(dir, ids[1]+ext)
	if err := os.Truncate(cut, 20); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ids[2]+ext), []byte("\x00\x00garbage\nFrom: x\r\n\r\nx"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ = Open(dir, 0) // a restart reads the folder afresh
	page, total, err := s.List(0, 10)
	if err != nil || total != 4 || len(page) != 4 {
		t.Fatalf("list: %d of %d, %v", len(page), total, err)
	}
	for i, sum := range page {
		id := ids[3-i]
		if sum.ID != id {
			t.Fatalf("line %d is %s, want %s", i, sum.ID, id)
		}
		broken := id == ids[1] || id == ids[2]
		if !broken {
			if sum.Damaged != nil || sum.Subject != "ご利用明細" {
				t.Errorf("a good message's line: %+v", sum)
			}
			continue
		}
		d := sum.Damaged
		if d == nil || d.ID != id || d.File != filepath.Join(dir, id+ext) || d.Err == nil || !d.At.Equal(base.Add(time.Duration(3-i)*time.Minute)) || !sum.Envelope.At.Equal(d.At) {
			t.Errorf("a damaged message's line: %+v %+v", sum, d)
		}
		m, err := s.Get(id)
		var de *DamagedError
		if m != nil || !errors.As(err, &de) || de.ID != id || !strings.Contains(err.Error(), id) {
			t.Errorf("Get of a damaged message: %+v, %v", m, err)
		}
	}
	if d := page[2].Damaged; d == nil || !errors.Is(d.Err, errNoEnvelope) {
		t.Errorf("the file cut short: %v", d)
	}
	if m, err := s.Get(ids[0]); err != nil || m.Decoded == nil {
		t.Errorf("a good message beside damaged ones: %v", err)
	}
}
