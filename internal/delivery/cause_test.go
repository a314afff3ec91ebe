package delivery

import (
	"context"
	"database/sql"
	"testing"
)

// wantStoredCause fails unless delivery id is stored with cause, as every
// face reads it back.
func wantStoredCause(t *testing.T, db *sql.DB, id int64, cause string) {
	t.Helper()
	s, err := Get(context.Background(), db, id)
	if err != nil {
		t.Fatal(err)
	}
	if s.Cause != cause {
		t.Errorf("delivery %d stored with cause %q (reason %q), want %q", id, s.Cause, s.Reason, cause)
	}
}
