package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// A delivery that stopped with the scheduler sending it says so, and that
// the scheduler resumes it when it runs next (at once, when one runs for
// the home now); Pause keeps it waiting for a person, as for a daily
// limit's pause.
func TestSchedulerStoppedPauseSaysTheSchedulerResumesIt(t *testing.T) {
	c := startConsole(t)
	id := pausedDelivery(t, c, fmt.Sprintf(`status = 'paused', cause = 'scheduler_stopped', resume_after = %d,
		reason = 'interrupted: the scheduler running it stopped'`, time.Now().UnixMilli()))
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	_, page := s.get(fmt.Sprintf("/deliveries/%d", id))
	if !strings.Contains(page, "送信していたスケジューラー") || !strings.Contains(page, "次にスケジューラーが動いたときに自動で再開します") {
		t.Fatalf("the page does not say the scheduler stopped and resumes it:\n%s", page)
	}
	en := c.session()
	en.hc.Transport = langTransport{"en"}
	if _, page := en.get(fmt.Sprintf("/deliveries/%d", id)); !strings.Contains(page, "The scheduler resumes it by itself when it runs next") {
		t.Fatalf("the English page does not say the scheduler resumes it:\n%s", page)
	}
	// With a scheduler running for the home (one that leaves it be, so
	// the page can be read), it says the resume comes shortly.
	if _, err := c.svc.StartServe(t.Context(), core.ServeOptions{Runner: idleRunner{}}); err != nil {
		t.Fatal(err)
	}
	_, js := s.get(fmt.Sprintf("/deliveries/%d/progress", id))
	c.svc.StopServe()
	if !strings.Contains(js, "まもなく自動で再開します") || !strings.Contains(js, `"can_pause":true`) {
		t.Fatalf("with the scheduler running, progress does not say it resumes shortly, nor offer Pause: %s", js)
	}
	if code, page, _ := s.post(fmt.Sprintf("/deliveries/%d/pause", id), nil, nil); code != http.StatusOK {
		t.Fatalf("pause: %d\n%s", code, page)
	}
	if _, js := s.get(fmt.Sprintf("/deliveries/%d/progress", id)); !strings.Contains(js, `"cause":"by_hand"`) || strings.Contains(js, "自動で再開") {
		t.Fatalf("paused by hand, progress still says the scheduler resumes it: %s", js)
	}
}

// idleRunner is a scheduler's runner that does nothing.
type idleRunner struct{}

func (idleRunner) Run(context.Context, schedule.Job) schedule.Result {
	return schedule.Result{Message: "ok"}
}
