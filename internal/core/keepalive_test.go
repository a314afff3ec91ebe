package core

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// The lifetime check reads the token store alone: nothing is refreshed,
// accounts never signed in and password accounts are left out.
func TestTokenLifetimeCheckAlertsWithoutRefreshing(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the notify command uses /bin/sh")
	}
	svc := newService(t, Options{})
	ctx := context.Background()
	for _, name := range []string{"sales", "fresh", "never"} {
		if err := svc.accounts().Put(ctx, &account.Account{Name: name, From: name + "@example.com", SMTPHost: "h", SMTPPort: 587,
			Security: account.SecurityStartTLS, Auth: account.AuthXOAuth2, Credentials: "corp"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.AddAccount(ctx, "relay", AccountInput{From: Ptr("r@example.com"), SMTPHost: Ptr("h"), SMTPPort: Ptr(25), Auth: Ptr("none")}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sec, _ := svc.secrets()
	for name, last := range map[string]time.Time{"sales": now.Add(-85 * 24 * time.Hour), "fresh": now} {
		if err := oauth.SaveToken(sec, name, &oauth.Token{Provider: provider.Microsoft, RefreshToken: "rt-" + name,
			ObtainedAt: now.Add(-200 * 24 * time.Hour), LastRefreshed: last}); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "alerts.json")
	if n := svc.CheckTokenLifetimes(ctx, alert.Config{Command: "cat >> " + out}, now); n != 1 {
		t.Fatalf("%d warnings, want 1", n)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var ev alert.Event
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Kind != alert.TokenExpiring || ev.Account != "sales" || !strings.Contains(ev.Message, "90 days") {
		t.Fatalf("alert %s (%v)", raw, err)
	}
	if st, _ := svc.SignInStatus(ctx, "sales", false); st.Health != HealthExpiring || st.Reason != ReasonIdle || len(st.Lifetime) != 1 {
		t.Fatalf("state %+v", st)
	}
}
