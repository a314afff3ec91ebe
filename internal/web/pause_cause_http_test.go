package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
)

// The page says why a delivery paused from the cause the engine stored,
// whatever its English reason says.
func TestPauseCauseComesFromTheStoredCause(t *testing.T) {
	c := startConsole(t)
	// A reason whose words name no cause: only the stored code can.
	id := pausedDelivery(t, c, `status = 'paused', cause = 'setup', reason = 'ErrorAccessDenied: Access is denied'`)
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	_, page := s.get(fmt.Sprintf("/deliveries/%d", id))
	if !strings.Contains(page, "メールサーバーが現在のアカウント設定を受け付けません") || !strings.Contains(page, "ErrorAccessDenied") {
		t.Fatalf("the page does not say the stored cause:\n%s", page)
	}
	if _, js := s.get(fmt.Sprintf("/deliveries/%d/progress", id)); !strings.Contains(js, `"setup"`) {
		t.Fatalf("progress: %s", js)
	}
}

// A delivery paused by a daily limit says when it can go on, and whether
// the scheduler will resume it then by itself (it does, when one runs for
// the home) or a person has to press Resume.
func TestDailyLimitPauseSaysWhetherTheSchedulerResumesIt(t *testing.T) {
	c := startConsole(t)
	at := time.Now().Add(20 * time.Hour)
	id := pausedDelivery(t, c, fmt.Sprintf(`status = 'paused', cause = 'daily_limit', resume_after = %d,
		reason = 'the account''s limit of 3 messages per 24 hours is reached'`, at.UnixMilli()))
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	_, page := s.get(fmt.Sprintf("/deliveries/%d", id))
	if !strings.Contains(page, "以降に続けられます。そのときに「再開」を押すか、スケジューラーを動かしておくと") {
		t.Fatalf("without a scheduler, the page does not say to press Resume or run the scheduler:\n%s", page)
	}
	if _, err := c.svc.StartServe(t.Context(), core.ServeOptions{}); err != nil {
		t.Fatal(err)
	}
	defer c.svc.StopServe()
	if _, js := s.get(fmt.Sprintf("/deliveries/%d/progress", id)); !strings.Contains(js, "以降、スケジューラーが自動で再開します") || !strings.Contains(js, `"can_pause":true`) {
		t.Fatalf("with the scheduler running, progress does not say it resumes by itself, nor offer Pause: %s", js)
	}
	// Pause: it waits for a person, and the page says so.
	if code, page, _ := s.post(fmt.Sprintf("/deliveries/%d/pause", id), nil, nil); code != http.StatusOK {
		t.Fatalf("pause: %d\n%s", code, page)
	}
	if _, js := s.get(fmt.Sprintf("/deliveries/%d/progress", id)); !strings.Contains(js, `"cause":"by_hand"`) || strings.Contains(js, "自動で再開") || !strings.Contains(js, `"can_pause":false`) {
		t.Fatalf("paused by hand, progress still says the scheduler resumes it: %s", js)
	}
}

// A delivery paused by a daily limit before causes were stored (its cause
// empty, its reason the limit's) is not resumed by the scheduler: the page
// says to press Resume, never that the scheduler will, and offers no Pause
// to stop a resume that will not come.
func TestAnOldDailyLimitPauseIsNotSaidToBeResumedByTheScheduler(t *testing.T) {
	c := startConsole(t)
	at := time.Now().Add(20 * time.Hour)
	id := pausedDelivery(t, c, fmt.Sprintf(`status = 'paused', cause = '', resume_after = %d,
		reason = 'the account''s limit of 3 messages per 24 hours is reached'`, at.UnixMilli()))
	s := c.session()
	s.hc.Transport = langTransport{"ja"}
	check := func(when string) {
		t.Helper()
		_, page := s.get(fmt.Sprintf("/deliveries/%d", id))
		_, js := s.get(fmt.Sprintf("/deliveries/%d/progress", id))
		if !strings.Contains(page, "スケジューラーは自動では再開しません") || strings.Contains(page, "スケジューラーを動かしておくと") ||
			strings.Contains(js, "スケジューラーが自動で再開します") || !strings.Contains(js, `"can_pause":false`) || !strings.Contains(js, `"cause":"daily_limit"`) {
			t.Errorf("%s: the old pause is said to be resumed by the scheduler, or Pause is offered:\n%s\n%s", when, js, page)
		}
	}
	check("without a scheduler")
	if _, err := c.svc.StartServe(t.Context(), core.ServeOptions{}); err != nil {
		t.Fatal(err)
	}
	defer c.svc.StopServe()
	check("with the scheduler running")
}
