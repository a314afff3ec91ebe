package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/store"
)

// 'deliveries show' of a delivery paused by a daily limit before causes
// were stored says when it can go on, but not that serve resumes it: the
// scheduler resumes only what it stored as paused by the limit.
func TestShowOfAnOldDailyLimitPauseDoesNotPromiseServe(t *testing.T) {
	h := newHome(t)
	db, err := store.Open(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, cause := range []string{"", "daily_limit"} {
		if _, err := db.Exec(`INSERT INTO deliveries(name, account, status, cause, reason, resume_after, source, columns_json, template_json, created_at, heartbeat)
			VALUES ('d', 'news', 'paused', ?, 'the account''s limit of 3 messages per 24 hours is reached', ?, 'l.csv', '[]', '{}', ?, ?)`,
			cause, now.Add(time.Hour).UnixMilli(), now.UnixMilli(), now.UnixMilli()); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	for id, want := range map[string]bool{"1": false, "2": true} {
		out := mustRun(t, h, "deliveries", "show", id).Stdout
		if !strings.Contains(out, "Can go on after") || strings.Contains(out, "resumes it by itself") != want {
			t.Errorf("delivery %s: want serve's resume said: %v\n%s", id, want, out)
		}
	}
}
