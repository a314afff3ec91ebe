package cli

import (
	"encoding/csv"
	"strings"
	"testing"
)

// 'suppress export' prints the list as CSV that a spreadsheet opens
// without running anything: a formula-like reason comes out as text.
func TestSuppressExport(t *testing.T) {
	home := t.TempDir()
	mustRun(t, home, "suppress", "add", "b@example.com", "--reason", "=1+1")
	mustRun(t, home, "suppress", "add", "A@example.com", "--reason", "配信停止")
	r := mustRun(t, home, "suppress", "export")
	recs, err := csv.NewReader(strings.NewReader(r.Stdout)).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, r.Stdout)
	}
	if len(recs) != 3 || strings.Join(recs[0], ",") != "email,reason,added_at" ||
		recs[1][0] != "A@example.com" || recs[1][1] != "配信停止" || recs[2][0] != "b@example.com" || recs[2][1] != "'=1+1" || recs[2][2] == "" {
		t.Fatalf("export:\n%s", r.Stdout)
	}
}
