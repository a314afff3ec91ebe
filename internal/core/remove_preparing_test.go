package core

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Removing an account refused for a delivery being prepared says that it
// is being prepared (no list shows it yet), to wait for that to end, and
// when an abandoned one is cleaned away — beside the usual words for the
// deliveries the lists show.
func TestAccountRemovalRefusedForADeliveryBeingPreparedSaysSo(t *testing.T) {
	svc := newService(t, Options{})
	ctx := context.Background()
	if _, err := svc.AddAccount(ctx, "news", AccountInput{From: Ptr("a@example.com"), SMTPHost: Ptr("relay.example"), SMTPPort: Ptr(587), Auth: Ptr("none")}); err != nil {
		t.Fatal(err)
	}
	insert := func(status string) string {
		t.Helper()
		now := time.Now().UnixMilli()
		res, err := svc.db.ExecContext(ctx, `INSERT INTO deliveries(name, account, status, source, columns_json, template_json, created_at, heartbeat)
			VALUES ('big', 'news', ?, 'big.csv', '[]', '{}', ?, ?)`, status, now, now)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := res.LastInsertId()
		return strconv.FormatInt(id, 10)
	}
	preparing := insert("preparing")
	err := svc.RemoveAccount(ctx, "news")
	var inUse *InUseError
	if !errors.As(err, &inUse) || !slices.Equal(inUse.Preparing, []string{preparing}) || len(inUse.Listed()) != 0 {
		t.Fatalf("want the refusal to name delivery %s as being prepared; got %#v", preparing, err)
	}
	for _, w := range []string{"delivery " + preparing + " is being prepared through it", "wait for the preparation to end",
		"cleaned away 15 minutes after its last sign of life"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the refusal does not say %q:\n%s", w, err)
		}
	}
	if strings.Contains(err.Error(), "its deliveries") {
		t.Errorf("the refusal calls the delivery being prepared an unfinished one the lists show:\n%s", err)
	}

	ready := insert("ready")
	err = svc.RemoveAccount(ctx, "news")
	if !errors.As(err, &inUse) || !slices.Equal(inUse.Listed(), []string{ready}) || !slices.Equal(inUse.Preparing, []string{preparing}) {
		t.Fatalf("want %s listed and %s being prepared; got %#v", ready, preparing, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "its deliveries "+ready+" are not finished") || !strings.Contains(msg, "delivery "+preparing+" is being prepared") {
		t.Errorf("the refusal does not name both:\n%s", msg)
	}
}
