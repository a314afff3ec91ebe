package automatic

import (
	"os/exec"
	"testing"

	"github.com/bluemoon-mail/bluemoon/internal/testbin"
)

// `schedule run` started by a person's own cron line or script, its input
// /dev/null, is not serve's job: the end of its input stops nothing, and
// the delivery it resumes goes to the end.
func TestScheduleRunByHandWithNoInputRunsToTheEnd(t *testing.T) {
	needSh(t)
	h := newOAuthHome(t)
	pausedForADay(t, h, "--per-day", "100")
	cmd := exec.Command(binary(t), "--home", h.home, "schedule", "run", "--unattended", "--resume-delivery", "1")
	cmd.Env, _ = env(t)
	out := &testbin.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out // stdin: /dev/null
	if err := cmd.Run(); err != nil {
		t.Fatalf("schedule run: %v\n%s", err, out)
	}
	if status, cause := deliveryCause(t, h.home, 1); status != "done" {
		t.Fatalf("%s (%s); want done\n%s", status, cause, out)
	}
	eachOnce(t, h)
}
