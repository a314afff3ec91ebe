package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// A refresh interrupted after the request left (Ctrl-C, serve stopping a
// job) must still save the rotated refresh token the server sent back: the
// server has already spent the old one.
func TestInterruptedRefreshStillSavesRotatedToken(t *testing.T) {
	got, proceed := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(got)
		<-proceed
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-new", "refresh_token": "rt-rotated", "expires_in": 3600, "token_type": "Bearer"})
	}))
	defer srv.Close()
	st := newStore(t, t.TempDir())
	now := time.Now()
	if err := SaveToken(st, "a", &Token{AccessToken: "at-old", RefreshToken: "rt-first", Expiry: now.Add(-time.Minute), ObtainedAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := NewSource(st, "a", genericConfig(srv.URL), SourceOptions{}).Refresh(ctx)
		done <- err
	}()
	<-got
	cancel()
	close(proceed)
	<-done
	stored, err := LoadToken(st, "a")
	if err != nil {
		t.Fatal(err)
	}
	if stored.RefreshToken != "rt-rotated" {
		t.Fatalf("stored refresh token %q: the rotated one the server sent was lost", stored.RefreshToken)
	}
}
