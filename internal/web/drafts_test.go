package web

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCleanNameKeepsTheLastElementOnly(t *testing.T) {
	for in, want := range map[string]string{"会員名簿.xlsx": "会員名簿.xlsx", "../../etc/passwd": "passwd", `C:\Users\a\list.csv`: "list.csv", " a\x00b.csv ": "ab.csv"} {
		if got, err := cleanName(in); err != nil || got != want {
			t.Errorf("cleanName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "..", "dir/", "draft.json"} {
		if _, err := cleanName(bad); err == nil {
			t.Errorf("cleanName(%q) accepted", bad)
		}
	}
}

// A draft left alone past draftTTL goes with its files; a fresh one and a
// sent one stay (a sent one waits for its delivery to be over).
func TestDraftsExpire(t *testing.T) {
	d := newDrafts(t.TempDir())
	old, err := d.create()
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := d.create()
	sent, _ := d.create()
	sent.DeliveryID = 7
	d.save(sent)
	os.WriteFile(filepath.Join(d.listDir(old.ID), "l.csv"), []byte("email\n"), 0o600)
	old.Touched = time.Now().Add(-draftTTL - time.Hour)
	sent.Touched = old.Touched
	// save stamps Touched: write the old stamps by hand.
	writeTouched(t, d, old)
	writeTouched(t, d, sent)
	d.sweep()
	if _, err := d.load(old.ID); err != errNoDraft {
		t.Errorf("the old draft is still there: %v", err)
	}
	if _, err := os.Stat(d.dir(old.ID)); !os.IsNotExist(err) {
		t.Errorf("its files are still there: %v", err)
	}
	for _, dr := range []*draft{fresh, sent} {
		if _, err := d.load(dr.ID); err != nil {
			t.Errorf("draft %s went: %v", dr.ID, err)
		}
	}
	if got := d.sent(); len(got) != 1 || got[0].ID != sent.ID {
		t.Errorf("sent drafts: %v", got)
	}
	if fi, err := os.Stat(filepath.Join(d.root, "drafts")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("drafts folder: %v %v", fi.Mode(), err)
	}
}

func writeTouched(t *testing.T, d *drafts, dr *draft) {
	t.Helper()
	touched := dr.Touched
	if err := d.save(dr); err != nil {
		t.Fatal(err)
	}
	loaded, _ := d.load(dr.ID)
	loaded.Touched = touched
	b := mustJSON(t, loaded)
	if err := os.WriteFile(filepath.Join(d.dir(dr.ID), "draft.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
