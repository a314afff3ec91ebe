package delivery

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/delivery/smtptest"
)

// smtpDailyLimit runs 20 recipients through the real transport to a server
// that starts refusing with the provider's daily-limit reply after 5
// messages, and checks the run pauses as for the APIs' daily limits: the
// refused messages put back (not deferred, not failed, no attempt
// counted), resume_after a day on, the reason saying why.
func smtpDailyLimit(t *testing.T, configure func(*smtptest.Server)) {
	t.Helper()
	db := openDB(t)
	srv := startServer(t, configure)
	started := time.Now()
	pf, out, err := Deliver(context.Background(), db.DB, plan(writeList(t, "l.csv", listOf(20))), transportDialer(srv.Addr), fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	c := out.Counts
	wantStoredCause(t, db.DB, out.ID, CauseDailyLimit)
	if out.Status != StatusPaused || out.SignIn || !strings.Contains(out.Reason, "daily sending limit") || out.ExitCode() != 5 {
		t.Fatalf("status %s (sign-in %v), reason %q, exit %d", out.Status, out.SignIn, out.Reason, out.ExitCode())
	}
	if out.ResumeAfter.Before(started.Add(23 * time.Hour)) {
		t.Errorf("resume after %v: want about a day on", out.ResumeAfter)
	}
	if c.Sent < 5 || int64(c.Sent) != srv.Count() || c.Failed != 0 || c.Deferred != 0 || c.Unknown != 0 || c.Sent+c.Pending != 20 {
		t.Fatalf("counts %+v, server accepted %d", c, srv.Count())
	}
	for _, o := range reportOf(t, db, pf.DeliveryID) {
		if o.State == statePending && o.Attempts != 0 {
			t.Errorf("%s put back with %d attempt(s) counted", o.Email, o.Attempts)
		}
	}
	s, err := Get(context.Background(), db.DB, pf.DeliveryID)
	if err != nil || s.Status != StatusPaused || !s.ResumeAfter.Equal(out.ResumeAfter.Truncate(time.Millisecond)) {
		t.Fatalf("stored: %+v %v", s, err)
	}
}

// Gmail's "550 5.4.5 Daily user sending limit exceeded" pauses the run.
func TestSMTPGoogleDailyLimitPauses(t *testing.T) {
	smtpDailyLimit(t, func(s *smtptest.Server) {
		s.RcptReply = func(string) error {
			if s.Count() >= 5 {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 4, 5},
					Message: "Daily user sending limit exceeded. For more information on Gmail sending limits go to https://support.google.com/a/answer/166852 - gsmtp"}
			}
			return nil
		}
	})
}

// Exchange Online's SubmissionQuotaExceeded at the end of DATA pauses the run.
func TestSMTPMicrosoftSubmissionQuotaPauses(t *testing.T) {
	smtpDailyLimit(t, func(s *smtptest.Server) {
		s.DataReply = func(accepted int64) error {
			if accepted >= 5 {
				return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 2, 0},
					Message: "STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception"}
			}
			return nil
		}
	})
}
