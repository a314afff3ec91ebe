package core

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
)

// A file of one address per line is read as such, its first line an
// address and not a column name; a table with a header row is not.
func TestInspectPlainList(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	dir := t.TempDir()
	plain := filepath.Join(dir, "stop.txt")
	writeFile(t, plain, "\ufeffa@example.com\n# from the October bounces\n\nnot-an-address\r\nb@example.com\n")
	p, err := svc.InspectPlainList(ctx, plain)
	if err != nil || p == nil || p.Addresses != 2 || p.Bad != 1 || !slices.Equal(p.Sample, []string{"a@example.com", "b@example.com"}) ||
		len(p.Rejected) != 1 || p.Rejected[0].Line != 4 {
		t.Fatalf("plain: %+v %v", p, err)
	}
	res, err := svc.ImportSuppressions(ctx, plain, "", ListInput{})
	if err != nil || res.Added != 2 || len(res.Rejected) != 1 {
		t.Fatalf("import agrees: %+v %v", res, err)
	}
	table := filepath.Join(dir, "stop.csv")
	writeFile(t, table, "email,name\nc@example.com,C\n")
	if p, err := svc.InspectPlainList(ctx, table); p != nil || err != nil {
		t.Fatalf("a table read as plain: %+v %v", p, err)
	}
}
