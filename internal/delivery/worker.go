package delivery

import (
	"bytes"
	"strconv"

	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/message"
)

// batchBytes: a worker stops adding messages to a window once they reach
// this size together (the first message always goes).
const batchBytes = 1 << 20

// sender is one worker's state: one connection at a time, reconnecting
// after the account's messages-per-connection (which also picks up a fresh
// token). With a BatchMailer it hands the session a whole window at once,
// so the messages share round trips (SMTP PIPELINING).
type sender struct {
	r       *run
	m       Mailer
	perConn int
	onConn  int
	refresh bool // the next session asks for a refreshed token
	fresh   bool // the current session was opened with a refreshed token
	closed  bool // the run hands out no more jobs

	rnd     *merge.Renderer
	content merge.Content
	fields  []string
	headers map[string]string
	to      [1]string
	bufs    []bytes.Buffer // bufs[k] holds ready[k]'s message
	items   []Item
	tos     [][1]string
	ready   []*job // the window being sent
	win     []*job
	carry   []*job // claimed jobs a broken batch never handed over: sent first on the next connection
	c       commit // the next commit: done collects outcomes as they come
	idBuf   []byte // the Message-ID being built
}

func (r *run) worker() {
	w := &sender{r: r, perConn: r.o.Limits.PerConnection}
	w.rnd = r.tpl.NewRenderer().Transient() // each message is composed before the next is rendered
	w.fields = make([]string, len(r.tpl.Columns()))
	w.headers = map[string]string{"X-Bluemoon-Delivery": strconv.FormatInt(r.id, 10)}
	for k, v := range r.o.Headers {
		w.headers[k] = v
	}
	window := r.o.Window
	w.bufs = make([]bytes.Buffer, window)
	w.items = make([]Item, window)
	w.tos = make([][1]string, window)
	w.c.reply = make(chan struct{}, 1)
	for w.window() {
	}
	w.closeSession()
	for _, j := range w.carry { // claimed, never written
		w.putBack(j)
	}
	w.carry = nil
	if len(w.c.done) > 0 {
		w.ask(0)
	}
}

// window sends one window: asks the ledger for it (with the outcomes of
// the last one), renders it, writes it, reads the replies. It reports
// whether the worker goes on.
func (w *sender) window() bool {
	r := w.r
	want := 0
	if !r.stopped() {
		want = r.o.Window - len(w.carry)
		if w.perConn > 0 {
			left := w.perConn
			if w.m != nil {
				left -= w.onConn
			}
			want = min(want, left-len(w.carry))
		}
		// The session opens before rows are claimed for it.
		if (want > 0 || len(w.carry) > 0) && w.m == nil && !w.connect() {
			return false // what is left goes back in the worker's last request
		}
	}
	if r.stopped() {
		return false
	}
	end := w.ask(max(want, 0))
	jobs := append(append(w.win[:0], w.carry...), w.c.jobs...)
	w.carry = w.carry[:0]
	if len(jobs) == 0 {
		return !end
	}
	// Each message is rendered as it is taken: a row that cannot be
	// rendered fails alone, and the window stops growing at batchBytes,
	// so large messages are not all held (and written before any reply)
	// at once; the rest, claimed, goes in the next window.
	w.ready = w.ready[:0]
	size := 0
	for _, j := range jobs {
		if size >= batchBytes {
			w.carry = append(w.carry, j)
			continue
		}
		buf := &w.bufs[len(w.ready)]
		if err := w.compose(j, buf); err != nil {
			j.state, j.reply, j.at = stateFailed, "not sent: "+err.Error(), r.o.Clock.Now().UnixMilli()
			w.c.done = append(w.c.done, j)
			continue
		}
		size += buf.Len()
		w.ready = append(w.ready, j)
	}
	clear(w.c.jobs)
	w.c.jobs = w.c.jobs[:0]
	clear(jobs)
	w.win = jobs[:0]
	if len(w.ready) == 0 {
		return true
	}
	if r.stopped() || w.m == nil {
		// Stopped since the claim (or the session is gone): nothing more
		// is written.
		for _, j := range w.ready {
			w.putBack(j)
		}
		return !r.stopped()
	}
	if bm, ok := w.m.(BatchMailer); ok && len(w.ready) > 1 {
		w.sendBatch(bm, w.ready)
	} else {
		w.sendEach(w.ready)
	}
	for k := 1; k < len(w.bufs); k++ {
		if w.bufs[k].Cap() > batchBytes {
			w.bufs[k] = bytes.Buffer{} // one large message must not pin a window of them
		}
	}
	return true
}

// ask sends the ledger the outcomes on hand and asks for up to want rows;
// they are in w.c.jobs, claimed. It reports whether no more will come.
func (w *sender) ask(want int) (end bool) {
	c := &w.c
	c.want = want
	w.r.commits <- c
	<-c.reply
	clear(c.done)
	c.done = c.done[:0]
	return c.end
}

// putBack returns a claimed job to the state it was claimed from: its
// message was never handed to a server.
func (w *sender) putBack(j *job) {
	j.state, j.at = j.from, w.r.o.Clock.Now().UnixMilli()
	w.c.done = append(w.c.done, j)
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

// connect opens a session, and reports whether it could.
func (w *sender) connect() bool {
	r := w.r
	if r.noDial.Load() || r.stopped() {
		return false
	}
	m, err := r.connect(r.stopCtx, w.refresh)
	if err != nil {
		return false
	}
	if !r.session(w, m) { // stopped meanwhile
		m.Close()
		return false
	}
	w.m, w.fresh, w.refresh, w.onConn = m, w.refresh, false, 0
	return true
}

func (w *sender) closeSession() {
	if w.m != nil {
		w.m.Close()
		w.r.session(w, nil)
		w.m = nil
	}
}

// sendEach sends jobs one Send at a time (a Mailer without batches).
func (w *sender) sendEach(jobs []*job) {
	r := w.r
	for k, j := range jobs {
		if r.stopped() || w.m == nil && !w.connect() {
			for _, j := range jobs[k:] {
				w.putBack(j)
			}
			return
		}
		w.to[0] = j.email
		reply, err := w.m.Send(r.sendCtx, r.from, w.to[:], w.bufs[k].Bytes())
		if err != nil && isNotSent(err) && r.stopped() {
			w.putBack(j) // a stop came first: never written
		} else {
			w.settle(j, reply, err)
		}
		w.afterSend(err != nil)
	}
}

func (w *sender) sendBatch(bm BatchMailer, jobs []*job) {
	r := w.r
	items := w.items[:len(jobs)]
	for k, j := range jobs {
		w.tos[k][0] = j.email
		items[k] = Item{To: w.tos[k][:], Msg: w.bufs[k].Bytes()}
	}
	bm.SendBatch(r.sendCtx, r.from, items)
	failed := false
	for k, j := range jobs {
		it := &items[k]
		if it.Err != nil && isNotSent(it.Err) {
			failed = true
			switch {
			case r.stopped():
				w.putBack(j) // a stop came first: never written
				continue
			case j.carried == 0:
				// Never handed over: send it on the next connection, once;
				// after that it is an ordinary temporary failure.
				j.carried++
				w.carry = append(w.carry, j)
				continue
			}
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
		w.closeSession()
	}
}
