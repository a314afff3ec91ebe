package automatic

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/schedule"
	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

// A scheduler whose temporary folder cannot be written (TMPDIR or TEMP
// naming a folder since removed, a read-only one) still runs its jobs:
// the file a job's error comes back through is a nicety of serve's
// output, not a reason to run no delivery.
func TestServeRunsItsJobsWithoutATemporaryFolder(t *testing.T) {
	srv := startSMTP(t)
	home := passwordAccount(t, srv)
	addSchedule(t, home, &schedule.Schedule{Name: "soon", Kind: schedule.KindKeepAlive, Target: "sales", SendTest: true,
		At: time.Now().Add(-time.Second), TZ: "UTC", Missed: schedule.MissedSkip, CreatedAt: time.Now().Add(-time.Minute)})
	missing := filepath.Join(t.TempDir(), "gone")
	cmd := exec.Command(binary(t), "--home", home, "serve", "--once")
	vars, _ := env(t)
	cmd.Env = append(vars, "TMPDIR="+missing, "TEMP="+missing, "TMP="+missing)
	out := &testbin.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		t.Fatalf("serve --once: %v\n%s", err, out)
	}
	if len(srv.Messages()) != 1 {
		t.Fatalf("%d test messages sent, want 1: the job did not run\n%s", len(srv.Messages()), out)
	}
	if !strings.Contains(mustRun(t, home, "schedule", "list", "--json").Stdout, `"last_exit": 0`) {
		t.Fatalf("the job's result is not recorded as a success\n%s", out)
	}
}
