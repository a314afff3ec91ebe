package cli

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// Without --notify-* flags serve alerts where the home's alert settings
// (kept by the console) say; the flags, when given, still win.
func TestServeAlertsToTheHomesSettingsWithoutFlags(t *testing.T) {
	needSh(t)
	home := t.TempDir()
	useInProcessServe(t)
	sendingNews(t, home, nil, provider.Limits{Connections: 1}, "email,name\na@example.com,A\n")
	addOverdue(t, home, schedule.MissedSkip, "") // no alert of its own
	dir := t.TempDir()
	homeOut, flagOut := filepath.Join(dir, "home.json"), filepath.Join(dir, "flag.json")
	svc, err := core.Open(context.Background(), core.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.SetAlertSettings(context.Background(), alert.Config{Command: "cat >> " + homeOut}); err != nil {
		t.Fatal(err)
	}
	svc.Close()

	mustRun(t, home, "serve", "--once")
	if evs := readEvents(t, homeOut); len(evs) != 1 || evs[0].Kind != alert.RunMissed || evs[0].Schedule != "daily" {
		t.Fatalf("home settings: events %+v", evs)
	}

	// Missed again (as if serve had been down another three days), now with a flag.
	os.Remove(homeOut)
	addOverdueAgain(t, home)
	mustRun(t, home, "serve", "--once", "--notify-cmd", "cat >> "+flagOut)
	if evs := readEvents(t, flagOut); len(evs) != 1 || evs[0].Kind != alert.RunMissed {
		t.Fatalf("flag: events %+v", evs)
	}
	if _, err := os.Stat(homeOut); err == nil {
		t.Fatal("the home's alert command ran although --notify-cmd was given")
	}
}

// addOverdueAgain stores the "daily" schedule anew, created three days
// ago, as if serve had been down since.
func addOverdueAgain(t *testing.T, home string) {
	t.Helper()
	svc, err := core.Open(context.Background(), core.Options{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	err = svc.RemoveSchedule(context.Background(), "daily")
	svc.Close()
	if err != nil {
		t.Fatal(err)
	}
	addOverdue(t, home, schedule.MissedSkip, "")
}
