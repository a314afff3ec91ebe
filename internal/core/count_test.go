package core

import (
	"sync/atomic"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/store/storetest"
)

// countQueries makes svc read and write through a handle that counts the
// queries whose text contains match, until the test ends (then svc has its
// own handle back, for Close). What a page costs in reads is asserted with
// it: "once per request" is not otherwise visible from outside.
func countQueries(t *testing.T, svc *Service, match string) *atomic.Int64 {
	t.Helper()
	h, n := storetest.CountingHandle(t, svc.db, match)
	own := svc.db.DB
	svc.db.DB = h
	t.Cleanup(func() { svc.db.DB = own }) // runs before the handle closes
	return n
}
