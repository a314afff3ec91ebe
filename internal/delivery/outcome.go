package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// settle records one message's outcome, for the worker's next commit.
func (w *sender) settle(j *job, reply string, err error) {
	r := w.r
	j.at = r.o.Clock.Now().UnixMilli()
	j.via = viaOf(w.m)
	switch {
	case err == nil:
		j.state, j.reply = stateSent, reply
		j.attempts++
	case isUncertain(err):
		// The connection broke while the server had the message: it may
		// have been taken. Retrying could send it twice, so it is
		// unknown, like a row a crash left 'sending'.
		j.attempts++
		j.state, j.reply = stateUnknown, "uncertain: "+err.Error()
	case isAuthFailure(err):
		// Refused before the message was taken: send it again on a
		// connection with a refreshed token. A refusal no new token cures
		// (530 5.7.57 at MAIL: the account does not sign in at all), or
		// one on a session that already had a refreshed token, pauses the
		// run: put back and sent again, the row would loop for ever.
		j.state = j.from
		if settingsProblem(err) || w.fresh {
			r.haltAuth(err, true)
		}
		w.refresh = true
	case isDailyLimit(err):
		// The provider says the account's day is spent: every further
		// message would be refused too. Put this one back and pause, as
		// when the account's own 24-hour limit is reached.
		j.state = j.from
		r.halt(stopReason{status: StatusPaused, cause: CauseDailyLimit, resumeAfter: time.UnixMilli(j.at).Add(retryAfterOf(err)),
			reason: "the provider's daily sending limit is reached: " + err.Error()})
	case isTemporary(err):
		j.attempts++
		j.reply = err.Error()
		if j.attempts >= r.o.MaxAttempts {
			j.state = stateFailed
			j.reply = fmt.Sprintf("gave up after %d attempts: %s", j.attempts, j.reply)
		} else {
			j.state = stateDeferred
			j.nextTry = j.at + max(r.backoff(j.attempts), retryAfterOf(err)).Milliseconds()
		}
	default:
		j.attempts++
		j.state, j.reply = stateFailed, err.Error()
	}
	w.c.done = append(w.c.done, j)
}

// backoff is the wait before attempt n+1: RetryBase doubling, at most RetryMax.
func (r *run) backoff(n int) time.Duration {
	d := r.o.RetryBase
	for i := 1; i < n && d < r.o.RetryMax; i++ {
		d *= 2
	}
	return min(d, r.o.RetryMax)
}

// connect dials with the account's sign-in. An authentication failure gets
// one retry with a refreshed token; then, or when the token source says a
// person must sign in, the run pauses for sign-in.
func (r *run) connect(ctx context.Context, refresh bool) (Mailer, error) {
	for attempt := 0; ; attempt++ {
		m, err := r.e.Dial(ctx, refresh)
		if err == nil {
			return m, nil
		}
		if needsSignIn(err) || isAuthFailure(err) && refresh || attempt+1 >= r.o.DialRetries || !isTemporary(err) && attempt > 0 {
			r.noDial.Store(true)
		}
		switch {
		case needsSignIn(err):
			r.halt(stopReason{status: StatusPaused, cause: CauseSignIn, reason: "sign-in needed: " + err.Error()})
			return nil, err
		case isAuthFailure(err) && !refresh && !settingsProblem(err):
			refresh = true
			continue
		case settingsProblem(err), isAuthFailure(err):
			r.haltAuth(err, refresh)
			return nil, err
		}
		if attempt+1 >= r.o.DialRetries || !isTemporary(err) && attempt > 0 {
			r.halt(stopReason{status: StatusPaused, cause: CauseConnect, reason: "cannot connect to the mail server: " + err.Error(), passing: isTemporary(err)})
			return nil, err
		}
		if !r.sleep(time.Duration(1<<attempt) * time.Second) {
			return nil, err
		}
	}
}

// haltAuth pauses the run after the server refused the account: for a
// setting to change, or (refreshed: even with a refreshed token) for a
// person to sign in again. No session is opened after it.
func (r *run) haltAuth(err error, refreshed bool) {
	r.noDial.Store(true)
	if settingsProblem(err) {
		r.halt(stopReason{status: StatusPaused, cause: CauseSetup, reason: "the server refuses this account as set up (a new sign-in does not help): " + err.Error()})
		return
	}
	reason := "the server refused the sign-in: "
	if refreshed {
		reason = "the server refused the sign-in (even with a refreshed token): "
	}
	r.halt(stopReason{status: StatusPaused, cause: CauseSignIn, reason: reason + err.Error()})
}

func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func isAuthFailure(err error) bool {
	var a interface{ AuthFailure() bool }
	return errors.As(err, &a) && a.AuthFailure()
}

func isUncertain(err error) bool {
	var u interface{ Uncertain() bool }
	return errors.As(err, &u) && u.Uncertain()
}

func isNotSent(err error) bool {
	var n interface{ NotSent() bool }
	return errors.As(err, &n) && n.NotSent()
}

func settingsProblem(err error) bool {
	var s interface{ SettingsProblem() bool }
	return errors.As(err, &s) && s.SettingsProblem()
}

// isDailyLimit: the provider refused because the account's daily sending
// window is spent (the HTTPS APIs say so apart from other throttling).
func isDailyLimit(err error) bool {
	var d interface{ DailyLimit() bool }
	return errors.As(err, &d) && d.DailyLimit()
}

// retryAfterOf is how long the server asked to wait (0: it did not say).
func retryAfterOf(err error) time.Duration {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		return ra.RetryAfter()
	}
	return 0
}

// viaOf names the way m sends (smtp, graph, gmail-api) for the outcome.
func viaOf(m Mailer) string {
	if v, ok := m.(interface{ Via() string }); ok {
		return v.Via()
	}
	return ""
}

func needsSignIn(err error) bool {
	var s interface{ NeedsSignIn() bool }
	return errors.As(err, &s) && s.NeedsSignIn()
}
