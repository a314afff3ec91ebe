package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/redact"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// スケジュール: every schedule of the home with its next run and last
// result, the keep-alive of each OAuth account (the guide's daily test send
// in one click), the home's alert destination, and whether anything runs
// the schedules at all — `bluemoon serve`, or this console on request.
// Everything is read from the data home, so a serve in another process and
// this console see the same schedules.

func (s *Server) scheduleRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /schedules", s.scheduleList)
	mux.HandleFunc("GET /schedules/new", s.scheduleNew)
	mux.HandleFunc("POST /schedules/new", s.scheduleCreate)
	mux.HandleFunc("GET /schedules/{name}/edit", s.scheduleEdit)
	mux.HandleFunc("POST /schedules/{name}/edit", s.scheduleUpdate)
	mux.HandleFunc("POST /schedules/{name}/pause", s.schedulePause)
	mux.HandleFunc("POST /schedules/{name}/resume", s.schedulePause)
	mux.HandleFunc("POST /schedules/{name}/remove", s.scheduleRemove)
	mux.HandleFunc("POST /schedules/testsend", s.scheduleTestSend)
	mux.HandleFunc("GET /schedules/alerts", s.alertSettings)
	mux.HandleFunc("POST /schedules/alerts", s.alertSettingsSave)
	mux.HandleFunc("POST /schedules/serve", s.serveHere)
	mux.HandleFunc("POST /schedules/serve/stop", s.serveHereStop)
	mux.HandleFunc("POST /schedules/install", s.scheduleInstall)
}

// schedulesPage is the list page.
type schedulesPage struct {
	Schedules []*scheduleRow
	KeepAlive []*core.KeepAliveState
	Alert     alert.Config
	Serve     serveState
	Installed *installShown // after the set-up was written (?installed=1)
}

// scheduleRow is one schedule said in words, in the user's language.
type scheduleRow struct {
	*core.ScheduleInfo
	What, When, Zone string
	// Resumes: why the delivery the last run left paused is paused now,
	// while the scheduler resumes it by itself (a cause code); "" once
	// it has gone on, Since then saying how.
	Resumes string
	Since   *lastSince
}

// lastSince says what became of the delivery a schedule's last run left
// paused for the scheduler, once it is no longer so: finished, cancelled,
// paused for a person, being sent, removed.
type lastSince struct {
	ID                 int64
	Badge, Class, Note string
}

func (s *Server) scheduleList(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "schedules", nil)
	ctx := r.Context()
	// One reading of the schedules for the list and the keep-alives.
	ov, err := s.svc.ScheduleOverview(ctx)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	ac, err := s.svc.AlertSettings(ctx)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	p := &schedulesPage{KeepAlive: ov.KeepAlive, Alert: ac, Serve: s.serveState()}
	if r.URL.Query().Get("installed") != "" {
		p.Installed = s.installShown()
	}
	for _, sc := range ov.Schedules {
		p.Schedules = append(p.Schedules, s.scheduleRow(v, sc))
	}
	v.Title = v.T("schedule.title")
	v.Flash = scheduleFlash(r, v)
	v.Data = p
	s.render(w, http.StatusOK, "schedules", v)
}

// scheduleFlash says what the redirect after an action carried.
func scheduleFlash(r *http.Request, v *view) []flash {
	q := r.URL.Query()
	var out []flash
	for _, k := range []string{"created", "saved", "paused", "resumed", "removed", "testsend", "testsend_exists"} {
		if n := q.Get(k); n != "" {
			out = append(out, flash{Kind: "ok", Text: v.T("schedule.flash."+k, n)})
		}
	}
	for _, k := range []string{"alerts", "serving", "stopped"} {
		if q.Get(k) != "" {
			out = append(out, flash{Kind: "ok", Text: v.T("schedule.flash." + k)})
		}
	}
	if q.Get("serve_busy") != "" {
		out = append(out, flash{Kind: "warn", Text: v.T("schedule.flash.serve_busy")})
	}
	return out
}

func (s *Server) scheduleRow(v *view, sc *core.ScheduleInfo) *scheduleRow {
	row := &scheduleRow{ScheduleInfo: sc, When: v.scheduleWhen(sc), Zone: zoneName(v, sc.TZ), Resumes: sc.LastCause}
	if ld := sc.LastDelivery; ld != nil {
		row.Resumes = ""
		key, class := "schedule.last.since."+ld.State, "badge-warn"
		switch ld.State {
		case core.LastDeliveryResumes:
			row.Resumes = ld.Cause
			if !ld.RetryAt.IsZero() {
				// Still the scheduler's, but its resume is failing.
				row.Resumes, key = "", "schedule.last.since.retrying"
			}
		case core.LastDeliveryDone:
			class = "badge-ok"
			if ld.Unsent > 0 {
				key, class = "schedule.last.since.done_unsent", "badge-warn"
			}
		case core.LastDeliveryCancelled, core.LastDeliveryRemoved, core.LastDeliverySending:
			class = ""
		}
		if row.Resumes == "" {
			row.Since = &lastSince{ID: ld.ID, Badge: v.T(key), Class: class, Note: v.T(key + ".note")}
			if ld.Unsent > 0 {
				row.Since.Note = v.T(key+".note", ld.Unsent)
			}
			if !ld.RetryAt.IsZero() {
				row.Since.Note = v.T(key+".note", v.When(ld.RetryAt))
			}
			if ld.State == core.LastDeliveryRemoved {
				row.Since.ID = 0 // no page to open
			}
		}
	}
	switch {
	case sc.Kind == schedule.KindDelivery:
		row.What = v.T("schedule.what.delivery", sc.Target)
	case sc.SendTest:
		row.What = v.T("schedule.what.testsend", sc.Target)
	default:
		row.What = v.T("schedule.what.keepalive", sc.Target)
	}
	return row
}

// scheduleWhen says a schedule's timing as a person would: once at…, daily
// at 09:00, weekly on Monday…, or the cron line a person wrote.
func (v *view) scheduleWhen(sc *core.ScheduleInfo) string {
	if sc.Cron == "" {
		return v.T("schedule.when.once", sc.At.In(sc.Location).Format("2006-01-02 15:04"))
	}
	rp, ok := schedule.RepeatOf(sc.Cron)
	if !ok {
		return v.T("schedule.when.cron", sc.Cron)
	}
	switch rp.Every {
	case schedule.EveryWeekday:
		return v.T("schedule.when.weekdays", rp.Clock())
	case schedule.EveryWeek:
		return v.T("schedule.when.weekly", v.T(weekdayKey(rp.Weekday)), rp.Clock())
	case schedule.EveryMonth:
		return v.T("schedule.when.monthly", rp.Day, rp.Clock())
	default:
		return v.T("schedule.when.daily", rp.Clock())
	}
}

func weekdayKey(d int) string { return "wizard.weekday." + string(rune('0'+d)) }

// zoneName is a schedule's zone for people: "this computer (JST)" for
// the machine's own.
func zoneName(v *view, tz string) string {
	if tz == "" || tz == "Local" {
		name, _ := time.Now().Zone()
		return v.T("schedule.tz.local", name)
	}
	return tz
}

func (s *Server) schedulePause(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	pause := r.URL.Path == "/schedules/"+name+"/pause"
	if _, err := s.svc.PauseSchedule(r.Context(), name, pause); err != nil {
		s.fail(w, r, s.newView(r, "schedules", nil), err)
		return
	}
	done := "resumed"
	if pause {
		done = "paused"
	}
	http.Redirect(w, r, "/schedules?"+done+"="+url.QueryEscape(name), http.StatusSeeOther)
}

func (s *Server) scheduleRemove(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := s.svc.RemoveSchedule(r.Context(), name); err != nil {
		s.fail(w, r, s.newView(r, "schedules", nil), err)
		return
	}
	http.Redirect(w, r, "/schedules?removed="+url.QueryEscape(name), http.StatusSeeOther)
}

// scheduleTestSend is the guide's advice in one click: a daily automatic
// test send for the account. It goes back where it came from (the
// schedules page, or the account's page).
func (s *Server) scheduleTestSend(w http.ResponseWriter, r *http.Request) {
	acct := r.FormValue("account")
	info, created, err := s.svc.AddDailyTestSend(r.Context(), acct)
	if err != nil {
		s.fail(w, r, s.newView(r, "schedules", nil), err)
		return
	}
	back := "/schedules?"
	if r.FormValue("from") == "account" {
		back = "/accounts/" + url.PathEscape(acct) + "?"
	}
	key := "testsend"
	if !created {
		key = "testsend_exists"
	}
	http.Redirect(w, r, back+key+"="+url.QueryEscape(info.Name), http.StatusSeeOther)
}

// alertsPage is the home's alert settings form.
type alertsPage struct {
	Alert    alert.Config
	Accounts []*core.AccountInfo
	Problem  *problem
}

func (s *Server) alertSettings(w http.ResponseWriter, r *http.Request) {
	ac, err := s.svc.AlertSettings(r.Context())
	if err != nil {
		s.fail(w, r, s.newView(r, "schedules", nil), err)
		return
	}
	s.renderAlerts(w, r, http.StatusOK, ac, nil)
}

func (s *Server) renderAlerts(w http.ResponseWriter, r *http.Request, status int, ac alert.Config, err error) {
	v := s.newView(r, "schedules", nil)
	accts, aerr := s.svc.Accounts(r.Context())
	if aerr != nil {
		s.fail(w, r, v, aerr)
		return
	}
	p := &alertsPage{Alert: ac, Accounts: accts}
	if err != nil {
		pr := v.explainIn(err, "schedule.error")
		p.Problem = v.flagField(&pr)
	}
	v.Title = v.T("alert.title")
	v.Data = p
	s.render(w, status, "schedule_alerts", v)
}

func (s *Server) alertSettingsSave(w http.ResponseWriter, r *http.Request) {
	ac := alertForm(r)
	if err := s.svc.SetAlertSettings(r.Context(), ac); err != nil {
		s.renderAlerts(w, r, http.StatusUnprocessableEntity, ac, err)
		return
	}
	http.Redirect(w, r, "/schedules?alerts=1", http.StatusSeeOther)
}

// alertForm reads an alert destination from a form (the home's settings
// and a schedule's own use the same fields).
func alertForm(r *http.Request) alert.Config {
	g := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
	return alert.Config{Command: g("notify_cmd"), Email: g("notify_email"), EmailAccount: g("notify_account")}
}

// MaskCommand is an alert command fit to show in passing: a webhook's
// secret (in its address) masked. The form that edits it shows it whole.
func (v *view) MaskCommand(cmd string) string { return redact.Command(cmd) }
