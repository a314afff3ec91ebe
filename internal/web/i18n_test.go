package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestCataloguesHaveTheSameKeys(t *testing.T) {
	cs, err := loadCatalogs(assets)
	if err != nil {
		t.Fatal(err)
	}
	for lang, keys := range cs.missing() {
		if len(keys) > 0 {
			t.Errorf("catalogue %s lacks %d key(s) the other has: %v", lang, len(keys), keys)
		}
	}
}

// Every literal key the templates and handlers ask for is in both
// catalogues (keys built with printf are checked by drawing every screen).
var keyUse = regexp.MustCompile(`\bT\(?\s*"([a-z_]+\.[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])"`)

func TestEveryKeyUsedIsInBothCatalogues(t *testing.T) {
	cs, err := loadCatalogs(assets)
	if err != nil {
		t.Fatal(err)
	}
	check := func(file string, b []byte) {
		for _, m := range keyUse.FindAllSubmatch(b, -1) {
			for lang, c := range cs {
				if !c.Has(string(m[1])) {
					t.Errorf("%s uses %q, missing from the %s catalogue", file, m[1], lang)
				}
			}
		}
	}
	_ = fs.WalkDir(assets, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(assets, p)
			check(p, b)
		}
		return nil
	})
	gos, _ := filepath.Glob("*.go")
	for _, g := range gos {
		b, _ := os.ReadFile(g)
		check(g, b)
	}
}
