package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

// 配信: every delivery with its state and counts, and one delivery's page
// with its live progress and the buttons that pause, resume, cancel and
// resend. Deliveries started from the CLI or by a schedule are here too:
// everything is read from the data home.

func (s *Server) deliveryRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /deliveries", s.deliveryList)
	mux.HandleFunc("GET /deliveries/{id}", s.deliveryPage)
	mux.HandleFunc("GET /deliveries/{id}/progress", s.deliveryProgress)
	mux.HandleFunc("POST /deliveries/{id}/pause", s.deliveryControl)
	mux.HandleFunc("POST /deliveries/{id}/resume", s.deliveryControl)
	mux.HandleFunc("POST /deliveries/{id}/cancel", s.deliveryControl)
	mux.HandleFunc("POST /deliveries/{id}/resend", s.deliveryControl)
	s.reportRoutes(mux)
	s.wizardRoutes(mux)
}

type deliveryListPage struct {
	Deliveries []*delivery.Summary
	Drafts     int // drafts in progress
}

func (s *Server) deliveryList(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "deliveries", nil)
	s.sweepSent(r)
	list, err := s.svc.Deliveries(r.Context())
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	v.Title = v.T("delivery.list.title")
	if r.URL.Query().Get("discarded") != "" {
		v.Flash = append(v.Flash, flash{Kind: "ok", Text: v.T("wizard.discarded")})
	}
	v.Data = &deliveryListPage{Deliveries: list}
	s.render(w, http.StatusOK, "deliveries", v)
}

// sweepSent removes the files of sent drafts once their delivery is over
// (and a week has passed, for a resend of the failed) or gone.
func (s *Server) sweepSent(r *http.Request) {
	for _, dr := range s.drafts.sent() {
		d, err := s.svc.Delivery(r.Context(), dr.DeliveryID)
		switch {
		case errors.Is(err, core.ErrNotFound):
		case err != nil:
			continue
		case d.Status != delivery.StatusDone && d.Status != delivery.StatusCancelled:
			continue
		case time.Since(d.FinishedAt) < sentKeep:
			continue
		}
		s.drafts.remove(dr.ID)
	}
	s.drafts.sweep()
}

// deliveryID is the delivery in the path.
func deliveryID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// deliveryPageData is one delivery's page.
type deliveryPageData struct {
	D        *delivery.Summary
	P        *progressView
	Problem  *problem
	Resend   bool // asked to confirm a resend
	SignInTo string
}

func (s *Server) deliveryPage(w http.ResponseWriter, r *http.Request) {
	s.renderDelivery(w, r, http.StatusOK, nil)
}

func (s *Server) renderDelivery(w http.ResponseWriter, r *http.Request, status int, pr *problem) {
	v := s.newView(r, "deliveries", nil)
	id, ok := deliveryID(r)
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, "notfound", nil)
		return
	}
	d, err := s.svc.Delivery(r.Context(), id)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	p, err := s.svc.DeliveryProgress(r.Context(), id)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	v.Title = v.T("delivery.title", d.ID, d.Name)
	q := r.URL.Query()
	for _, k := range []string{"paused", "resumed", "cancelled", "resent", "busy"} {
		if q.Get(k) != "" {
			v.Flash = append(v.Flash, flash{Kind: "ok", Text: v.T("delivery.flash." + k)})
		}
	}
	v.Data = &deliveryPageData{D: d, P: s.progressView(v, p), Problem: pr}
	s.render(w, status, "delivery", v)
}

// progressView is a delivery's progress as the page and its script show
// it, in the user's language.
type progressView struct {
	ID         int64  `json:"id"`
	Status     string `json:"status"`
	StatusText string `json:"status_text"`
	Live       bool   `json:"live"`
	Final      bool   `json:"final"` // nothing more happens without a person
	Sent       int    `json:"sent"`
	Failed     int    `json:"failed"`
	Deferred   int    `json:"deferred"`
	Unknown    int    `json:"unknown"`
	Remaining  int    `json:"remaining"`
	Total      int    `json:"total"`
	Skipped    int    `json:"skipped"`
	Suppressed int    `json:"suppressed"`
	Cancelled  int    `json:"cancelled"`
	Percent    int    `json:"percent"`
	Rate       string `json:"rate"`
	ETA        string `json:"eta"`
	Cause      string `json:"cause,omitempty"`
	Why        string `json:"why,omitempty"`  // why it stopped, in words
	Next       string `json:"next,omitempty"` // what to do about it
	SignIn     string `json:"signin,omitempty"`
	Detail     string `json:"detail,omitempty"` // the engine's own words
	CanPause   bool   `json:"can_pause"`
	CanResume  bool   `json:"can_resume"`
	CanCancel  bool   `json:"can_cancel"`
	Updated    string `json:"updated"`
}

func (s *Server) progressView(v *view, p *core.Progress) *progressView {
	c := p.Counts
	pv := &progressView{ID: p.ID, Status: p.Status, StatusText: v.T("delivery.status." + p.Status), Live: p.Live,
		Sent: c.Sent, Failed: c.Failed, Deferred: c.Deferred, Unknown: c.Unknown, Remaining: c.Pending + c.Sending,
		Total: p.Total, Skipped: c.Skipped, Suppressed: c.Suppressed, Cancelled: c.Cancelled,
		Updated: time.Now().Local().Format("15:04:05")}
	if p.Total > 0 {
		pv.Percent = (c.Sent + c.Failed + c.Unknown + c.Cancelled) * 100 / p.Total
	}
	switch {
	case p.Rate > 0:
		pv.Rate = v.T("progress.rate", strconv.FormatFloat(p.Rate*60, 'f', 0, 64))
	case p.Live:
		pv.Rate = v.T("progress.rate.measuring")
	default:
		pv.Rate = "—"
	}
	switch {
	case p.ETA > 0 && p.Live:
		pv.ETA = v.T("progress.eta", durationWords(v, p.ETA), time.Now().Add(p.ETA).Local().Format("15:04"))
	case p.Live:
		pv.ETA = v.T("progress.eta.measuring")
	default:
		pv.ETA = "—"
	}
	pv.Final = !p.Live && p.Status != delivery.StatusRunning
	// Paused by a daily limit or stopped with the scheduler, it goes on by
	// itself under the scheduler: Pause makes it wait for a person instead.
	pv.CanPause = p.Status == delivery.StatusRunning && p.Live || p.Scheduler != nil
	pv.CanCancel = p.Status != delivery.StatusDone && p.Status != delivery.StatusCancelled
	pv.CanResume = !p.Live && (p.Status == delivery.StatusPaused || p.Status == delivery.StatusReady || p.Status == core.StatusInterrupted)
	if cause := p.Cause; cause != "" {
		pv.Cause = cause
		pv.Why = v.T("progress.why." + cause)
		pv.Next = v.T("progress.next." + cause)
		pv.Detail = p.Reason
		switch {
		case cause != core.CauseDailyLimit || p.ResumeAfter.IsZero():
		case p.Scheduler == nil:
			// Paused before causes were stored: its reason reads as a
			// daily limit, but the scheduler leaves it to a person.
			pv.Next = v.T("progress.next.daily_limit_at_hand", v.When(p.ResumeAfter))
		default:
			pv.Next = v.T("progress.next.daily_limit_at", v.When(p.ResumeAfter))
			if on, _ := s.svc.ServeRunning(); on {
				pv.Next = v.T("progress.next.daily_limit_auto", v.When(p.ResumeAfter))
			}
		}
		if cause == core.CauseSchedulerStopped {
			if on, _ := s.svc.ServeRunning(); on {
				pv.Next = v.T("progress.next.scheduler_stopped_auto")
			}
		}
		if r := p.Scheduler; r != nil && r.Retrying {
			// Its resume failed for a reason that may pass: the stored
			// cause is still the one it waits on, but the next step is
			// the scheduler's retry.
			pv.Next = v.T("progress.next.retrying", v.When(r.At), v.When(r.GiveUpAt))
		}
		if cause == core.CauseSignIn {
			pv.SignIn = "/accounts/" + url.PathEscape(p.Account) + "/oauth"
		}
	}
	return pv
}

// durationWords says a duration the way a person reads a countdown.
func durationWords(v *view, d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return v.T("progress.seconds", int(d.Seconds()))
	case d < time.Hour:
		return v.T("progress.minutes", int(d.Minutes()+0.5))
	case d < 48*time.Hour:
		return v.T("progress.hours", int(d.Hours()), int(d.Minutes())%60)
	}
	return v.T("progress.days", int(d.Hours()/24))
}

// deliveryProgress is the page's script's view of the progress, read
// from the data home each time: the same for a delivery this console
// runs, one the CLI or a schedule runs, and one whose program died.
func (s *Server) deliveryProgress(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "deliveries", nil)
	id, ok := deliveryID(r)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such delivery"})
		return
	}
	p, err := s.svc.DeliveryProgress(r.Context(), id)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, core.ErrNotFound) {
			code = http.StatusNotFound
		}
		writeJSON(w, code, map[string]string{"error": v.explain(err).Message})
		return
	}
	writeJSON(w, http.StatusOK, s.progressView(v, p))
}

// deliveryControl pauses, resumes, cancels or resends, then shows the
// delivery's page again.
func (s *Server) deliveryControl(w http.ResponseWriter, r *http.Request) {
	id, ok := deliveryID(r)
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, "notfound", nil)
		return
	}
	ctx := r.Context()
	var err error
	done := ""
	switch lastElem(r.URL.Path) {
	case "pause":
		_, err = s.svc.PauseDelivery(ctx, id)
		done = "paused"
	case "cancel":
		_, err = s.svc.CancelDelivery(ctx, id)
		done = "cancelled"
	case "resume":
		_, err = s.svc.StartResume(ctx, id, core.ResumeInput{DailyWait: core.DefaultDailyWait})
		done = "resumed"
	case "resend":
		in := core.ResumeInput{DailyWait: core.DefaultDailyWait}
		switch r.FormValue("what") {
		case "failed":
			in.ResendFailed = true
		case "unknown":
			in.ResendUnknown = true
		default:
			in.ResendFailed, in.ResendUnknown = true, true
		}
		_, err = s.svc.StartResume(ctx, id, in)
		done = "resent"
	}
	if err != nil {
		v := s.newView(r, "deliveries", nil)
		pr := v.explain(err)
		s.renderDelivery(w, r, http.StatusUnprocessableEntity, &pr)
		return
	}
	s.logf("console: delivery %d %s", id, done)
	http.Redirect(w, r, "/deliveries/"+strconv.FormatInt(id, 10)+"?"+done+"=1", http.StatusSeeOther)
}

func lastElem(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}

// Duration says d in words.
func (v *view) Duration(d time.Duration) string { return durationWords(v, d) }
