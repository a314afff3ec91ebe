package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/merge"
)

// worker sends on one connection at a time, reconnecting after the
// account's messages-per-connection (which also picks up a fresh token).
func (r *run) worker(ctx context.Context) {
	var m Mailer
	perConn := r.o.Limits.PerConnection
	onConn := 0
	refresh := false
	defer func() {
		if m != nil {
			m.Close()
		}
	}()
	rnd := r.tpl.NewRenderer()
	var content merge.Content
	var buf bytes.Buffer
	fields := make([]string, len(r.tpl.Columns()))
	to := make([]string, 1)
	headers := map[string]string{"X-Bluemoon-Delivery": fmt.Sprint(r.id)}
	for k, v := range r.o.Headers {
		headers[k] = v
	}
	// A job handed over is sent even if the run is stopping: the feeder
	// alone decides what is handed over, so a stop never strands a claim.
	for j := range r.work {
		if err := decodeFields(j.fields, fields); err != nil {
			r.fail(j, "not sent: "+err.Error())
			continue
		}
		if err := rnd.Render(fields, &content); err != nil {
			r.fail(j, "not sent: "+err.Error())
			continue
		}
		env := merge.Envelope{MessageID: fmt.Sprintf("bm%d.%d.%s", r.id, j.id, merge.NewMessageID(r.from)), Headers: headers}
		if err := r.tpl.Compose(&content, env, &buf); err != nil {
			r.fail(j, "not sent: "+err.Error())
			continue
		}
		if m == nil && r.noDial.Load() {
			j.state = j.from // the account cannot connect: never handed to a server
			r.results <- j
			continue
		}
		if m == nil {
			var err error
			if m, err = r.connect(ctx, refresh); err != nil {
				j.state = j.from // never handed to a server
				r.results <- j
				continue
			}
			refresh, onConn = false, 0
		}
		to[0] = j.email
		reply, err := m.Send(ctx, r.from, to, buf.Bytes())
		j.at = r.o.Clock.Now().UnixMilli()
		onConn++
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
			// connection with a refreshed token.
			j.state = j.from
			refresh = true
		case isTemporary(err):
			j.attempts++
			j.reply = err.Error()
			if j.attempts >= r.o.MaxAttempts {
				j.state = stateFailed
				j.reply = fmt.Sprintf("gave up after %d attempts: %s", j.attempts, j.reply)
			} else {
				j.state = stateDeferred
				j.nextTry = j.at + r.backoff(j.attempts).Milliseconds()
			}
		default:
			j.attempts++
			j.state, j.reply = stateFailed, err.Error()
		}
		if err != nil || (perConn > 0 && onConn >= perConn) {
			m.Close()
			m = nil
		}
		r.results <- j
	}
}

func (r *run) fail(j *job, reason string) {
	j.state, j.reply, j.at = stateFailed, reason, r.o.Clock.Now().UnixMilli()
	r.results <- j
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
			r.halt(stopReason{status: StatusPaused, signIn: true, reason: "sign-in needed: " + err.Error()})
			return nil, err
		case isAuthFailure(err) && !refresh:
			refresh = true
			continue
		case isAuthFailure(err):
			r.halt(stopReason{status: StatusPaused, signIn: true, reason: "the server refused the sign-in (even with a refreshed token): " + err.Error()})
			return nil, err
		}
		if attempt+1 >= r.o.DialRetries || !isTemporary(err) && attempt > 0 {
			r.halt(stopReason{status: StatusPaused, reason: "cannot connect to the mail server: " + err.Error()})
			return nil, err
		}
		if !r.sleep(time.Duration(1<<attempt) * time.Second) {
			return nil, err
		}
	}
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

func needsSignIn(err error) bool {
	var s interface{ NeedsSignIn() bool }
	return errors.As(err, &s) && s.NeedsSignIn()
}
