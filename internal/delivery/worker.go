package delivery

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/message"
)

// worker sends on one connection at a time, reconnecting after the
// account's messages-per-connection (which also picks up a fresh token).
// With a BatchMailer it hands the session every message it has ready, up
// to Options.Window, so they share round trips (SMTP PIPELINING).
func (r *run) worker(ctx context.Context) {
	w := &sender{r: r, perConn: r.o.Limits.PerConnection}
	defer func() {
		if w.m != nil {
			w.m.Close()
		}
	}()
	w.rnd = r.tpl.NewRenderer()
	w.fields = make([]string, len(r.tpl.Columns()))
	w.headers = map[string]string{"X-Bluemoon-Delivery": fmt.Sprint(r.id)}
	for k, v := range r.o.Headers {
		w.headers[k] = v
	}
	window := r.o.Window
	w.bufs = make([]bytes.Buffer, window)
	w.items = make([]Item, window)
	w.tos = make([][1]string, window)
	var batch, ready []*job
	open := true
	// A job handed over is sent even if the run is stopping: the feeder
	// alone decides what is handed over, so a stop never strands a claim.
	for open || len(w.carry) > 0 {
		max := window
		if w.perConn > 0 {
			left := w.perConn
			if w.m != nil {
				left -= w.onConn
			}
			max = min(max, left)
		}
		// Render each message as it is taken: a row that cannot be
		// rendered fails alone and never costs a connection, and the batch
		// stops growing at batchBytes, so large messages are not all held
		// (and written before any reply) at once.
		ready, size := ready[:0], 0
		add := func(j *job) {
			buf := &w.bufs[len(ready)]
			if err := w.compose(j, buf); err != nil {
				r.fail(j, "not sent: "+err.Error())
				return
			}
			size += buf.Len()
			ready = append(ready, j)
		}
		batch = append(batch[:0], w.carry...)
		w.carry = w.carry[:0]
		for _, j := range batch {
			add(j)
		}
		if len(batch) == 0 {
			j, ok := <-r.work
			if !ok {
				break
			}
			add(j)
		}
	more:
		for open && len(ready) < max && size < batchBytes {
			select {
			case j, ok := <-r.work:
				if !ok {
					open = false
					break more
				}
				add(j)
			default:
				break more
			}
		}
		if len(ready) == 0 {
			continue
		}
		if w.m == nil && !w.connect(ctx, ready) {
			continue
		}
		if bm, ok := w.m.(BatchMailer); ok && len(ready) > 1 {
			w.sendBatch(ctx, bm, ready)
		} else {
			for k, j := range ready {
				if w.m == nil && !w.connect(ctx, ready[k:k+1]) {
					continue
				}
				w.to[0] = j.email
				reply, err := w.m.Send(ctx, r.from, w.to[:], w.bufs[k].Bytes())
				w.settle(j, reply, err)
				w.afterSend(err != nil)
			}
		}
		for k := 1; k < len(w.bufs); k++ {
			if w.bufs[k].Cap() > batchBytes {
				w.bufs[k] = bytes.Buffer{} // one large message must not pin a window of them
			}
		}
	}
}

// batchBytes: a worker stops adding messages to a batch once they reach
// this size together (the first message always goes).
const batchBytes = 1 << 20

// sender is one worker's state.
type sender struct {
	r       *run
	m       Mailer
	perConn int
	onConn  int
	refresh bool // the next session asks for a refreshed token
	fresh   bool // the current session was opened with a refreshed token

	rnd     *merge.Renderer
	content merge.Content
	fields  []string
	headers map[string]string
	to      [1]string
	bufs    []bytes.Buffer
	items   []Item
	tos     [][1]string
	carry   []*job // jobs a broken batch never handed over: sent first on the next connection
	idBuf   []byte // the Message-ID being built
}

func (w *sender) compose(j *job, buf *bytes.Buffer) error {
	r := w.r
	if err := decodeFields(j.fields, w.fields); err != nil {
		return err
	}
	if err := w.rnd.Render(w.fields, &w.content); err != nil {
		return err
	}
	// "bm<delivery>.<row id>.<random>@<domain>": which delivery and row a
	// bounce or reply is about.
	id := append(w.idBuf[:0], "bm"...)
	id = strconv.AppendInt(id, r.id, 10)
	id = append(id, '.')
	id = strconv.AppendInt(id, j.id, 10)
	id = append(id, '.')
	w.idBuf = message.AppendMessageID(id, r.from)
	env := merge.Envelope{MessageID: string(w.idBuf), Headers: w.headers}
	return r.tpl.Compose(&w.content, env, buf)
}

// connect opens a session for jobs; when it cannot, they go back unsent.
func (w *sender) connect(ctx context.Context, jobs []*job) bool {
	r := w.r
	if !r.noDial.Load() {
		m, err := r.connect(ctx, w.refresh)
		if err == nil {
			w.m, w.fresh, w.refresh, w.onConn = m, w.refresh, false, 0
			return true
		}
	}
	for _, j := range jobs {
		j.state = j.from // never handed to a server
		r.results <- j
	}
	return false
}

func (w *sender) sendBatch(ctx context.Context, bm BatchMailer, jobs []*job) {
	items := w.items[:len(jobs)]
	for k, j := range jobs {
		w.tos[k][0] = j.email
		items[k] = Item{To: w.tos[k][:], Msg: w.bufs[k].Bytes()}
	}
	bm.SendBatch(ctx, w.r.from, items)
	failed := false
	for k, j := range jobs {
		it := &items[k]
		if it.Err != nil && isNotSent(it.Err) && j.carried == 0 {
			// Never handed over: send it on the next connection, once;
			// after that it is an ordinary temporary failure.
			j.carried++
			w.carry = append(w.carry, j)
			failed = true
			continue
		}
		w.settle(j, it.Reply, it.Err)
		failed = failed || it.Err != nil
	}
	w.onConn += len(jobs) - 1 // afterSend counts the last one
	w.afterSend(failed)
}

// afterSend closes the session after a failure (the next message gets a
// clean one) or when it has carried its share of messages.
func (w *sender) afterSend(failed bool) {
	w.onConn++
	if failed || (w.perConn > 0 && w.onConn >= w.perConn) {
		w.m.Close()
		w.m = nil
	}
}

// settle records one message's outcome and hands it to the journal.
func (w *sender) settle(j *job, reply string, err error) {
	r := w.r
	j.at = r.o.Clock.Now().UnixMilli()
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
	r.results <- j
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
		case isAuthFailure(err) && !refresh && !settingsProblem(err):
			refresh = true
			continue
		case settingsProblem(err), isAuthFailure(err):
			r.haltAuth(err, refresh)
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

// haltAuth pauses the run after the server refused the account: for a
// setting to change, or (refreshed: even with a refreshed token) for a
// person to sign in again. No session is opened after it.
func (r *run) haltAuth(err error, refreshed bool) {
	r.noDial.Store(true)
	if settingsProblem(err) {
		r.halt(stopReason{status: StatusPaused, reason: "the server refuses this account as set up (a new sign-in does not help): " + err.Error()})
		return
	}
	reason := "the server refused the sign-in: "
	if refreshed {
		reason = "the server refused the sign-in (even with a refreshed token): "
	}
	r.halt(stopReason{status: StatusPaused, signIn: true, reason: reason + err.Error()})
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

func needsSignIn(err error) bool {
	var s interface{ NeedsSignIn() bool }
	return errors.As(err, &s) && s.NeedsSignIn()
}
