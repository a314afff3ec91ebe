package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// The create / edit form of a schedule: a saved delivery (or, editing a
// keep-alive, its account) at one time or on a repeat — daily, weekdays,
// weekly or monthly at HH:MM, or a cron line for those who know one —,
// what to do with a run missed while nothing served, how long ahead the
// preflight checks, and the schedule's own alert destination.

// scheduleForm is the form as typed (kept on a refusal).
type scheduleForm struct {
	IsNew              bool
	Name, Kind, Target string
	SendTest           bool
	When               string // once, repeat, cron
	At, Cron           string
	repeatForm
	TZ, Missed, Preflight string
	Alert                 alert.Config // the schedule's own destination (zero: the home's)
}

// scheduleFormPage is what the form template sees.
type scheduleFormPage struct {
	Form       scheduleForm
	Once       string // a new schedule's one-time key: the form sent twice makes one
	Saved      []*saved.Delivery
	Accounts   []*core.AccountInfo
	HomeAlert  alert.Config
	Preflights []preflightChoice
	Zones      []string
	Problem    *problem
}

// preflightChoice is one "check ahead" option: its value (a Go
// duration; "0" none) and the time it stands for, said in words.
type preflightChoice struct {
	Value string
	D     time.Duration
}

// preflightChoices are the form's "check ahead" options.
var preflightChoices = []string{"0", "1h", "6h", "24h", "48h"}

// zoneChoices are offered beside free typing of any IANA name.
var zoneChoices = []string{"Local", "Asia/Tokyo", "UTC", "America/New_York", "Europe/London", "Asia/Singapore"}

func (s *Server) scheduleNew(w http.ResponseWriter, r *http.Request) {
	f := scheduleForm{IsNew: true, Kind: string(schedule.KindDelivery), Target: r.URL.Query().Get("run"), When: "repeat",
		repeatForm: defaultRepeat, TZ: "Local", Missed: string(schedule.MissedSkip), Preflight: "24h"}
	s.renderScheduleForm(w, r, http.StatusOK, f, nil)
}

func (s *Server) scheduleEdit(w http.ResponseWriter, r *http.Request) {
	sc, err := s.svc.Schedule(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, s.newView(r, "schedules", nil), err)
		return
	}
	s.renderScheduleForm(w, r, http.StatusOK, formOf(sc), nil)
}

// formOf fills the form from a stored schedule: a cron line one of the
// simple repeats wrote comes back as that repeat.
func formOf(sc *core.ScheduleInfo) scheduleForm {
	f := scheduleForm{Name: sc.Name, Kind: string(sc.Kind), Target: sc.Target, SendTest: sc.SendTest, TZ: sc.TZ,
		Missed: string(sc.Missed), Preflight: durationChoice(sc.Preflight), repeatForm: defaultRepeat, Alert: sc.Alert}
	switch rp, ok := schedule.RepeatOf(sc.Cron); {
	case sc.Cron == "":
		f.When, f.At = "once", sc.At.In(sc.Location).Format("2006-01-02T15:04")
	case ok:
		f.When, f.Every, f.Time = "repeat", rp.Every, rp.Clock()
		f.Weekday, f.Day = strconv.Itoa(rp.Weekday), strconv.Itoa(max(rp.Day, 1))
	default:
		f.When, f.Cron = "cron", sc.Cron
	}
	return f
}

// durationChoice writes a preflight as the form's option values do.
func durationChoice(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	if d%time.Hour == 0 {
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return d.String()
}

func (s *Server) renderScheduleForm(w http.ResponseWriter, r *http.Request, status int, f scheduleForm, err error) {
	v := s.newView(r, "schedules", nil)
	ctx := r.Context()
	list, lerr := s.svc.SavedDeliveries(ctx)
	accts, aerr := s.svc.Accounts(ctx)
	home, herr := s.svc.AlertSettings(ctx)
	for _, e := range []error{lerr, aerr, herr} {
		if e != nil {
			s.fail(w, r, v, e)
			return
		}
	}
	p := &scheduleFormPage{Form: f, Saved: list, Accounts: accts, HomeAlert: home, Zones: zoneChoices}
	if f.IsNew {
		p.Once = r.FormValue("once") // a refused form keeps its key
		if p.Once == "" {
			p.Once = randomToken(12)
		}
	}
	choices := preflightChoices
	if !slices.Contains(choices, f.Preflight) {
		choices = append(choices[:len(choices):len(choices)], f.Preflight)
	}
	for _, c := range choices {
		d, _ := time.ParseDuration(c)
		p.Preflights = append(p.Preflights, preflightChoice{Value: c, D: d})
	}
	if err != nil {
		pr := v.explainIn(err, "schedule.error")
		p.Problem = v.flagField(&pr)
	}
	if f.IsNew {
		v.Title = v.T("schedule.new.title")
	} else {
		v.Title = v.T("schedule.edit.title", f.Name)
	}
	v.Data = p
	s.render(w, status, "schedule_form", v)
}

// readScheduleForm reads the form, and the schedule it asks for.
func readScheduleForm(r *http.Request) (scheduleForm, core.ScheduleInput, error) {
	g := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
	f := scheduleForm{Name: g("name"), Kind: g("kind"), Target: g("run"), SendTest: r.FormValue("send_test") != "", When: g("when"),
		At: g("at"), repeatForm: readRepeatForm(r), Cron: g("cron"), TZ: g("tz"),
		Missed: g("missed"), Preflight: g("preflight"), Alert: alertForm(r)}
	in := core.ScheduleInput{Name: f.Name, Kind: schedule.KindDelivery, Target: f.Target, SendTest: f.SendTest, TZ: f.TZ,
		Missed: schedule.Missed(f.Missed), Alert: f.Alert}
	if f.Kind == string(schedule.KindKeepAlive) {
		in.Kind = schedule.KindKeepAlive
	}
	if f.Preflight != "" && in.Kind == schedule.KindDelivery {
		d, err := time.ParseDuration(f.Preflight)
		if err != nil || d < 0 {
			return f, in, &core.FieldError{Field: "preflight", Code: core.CodeInvalid, Message: "choose how long ahead to check"}
		}
		in.Preflight = d
	}
	switch f.When {
	case "once":
		if f.At == "" {
			return f, in, &core.FieldError{Field: "at", Code: core.CodeRequired, Message: "a date and time is required"}
		}
		in.At = strings.Replace(f.At, "T", " ", 1)
	case "cron":
		if f.Cron == "" {
			return f, in, &core.FieldError{Field: "cron", Code: core.CodeRequired, Message: "a cron line is required"}
		}
		in.Cron = f.Cron
	default:
		f.When = "repeat"
		c, err := f.cron()
		if err != nil {
			return f, in, err
		}
		in.Cron = c
	}
	return f, in, nil
}

func (s *Server) scheduleCreate(w http.ResponseWriter, r *http.Request) {
	// The form's one-time key: sent again (a double click) it shows the
	// schedule the first made, rather than refusing its name as taken. (A
	// name changed since, the page gone back to, makes another.)
	st := &start{}
	if once := r.FormValue("once"); once != "" {
		st = s.starts.of("schedule/" + once)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.saved != nil && st.saved.Name == strings.TrimSpace(r.FormValue("name")) {
		http.Redirect(w, r, "/schedules?created="+url.QueryEscape(st.saved.Name), http.StatusSeeOther)
		return
	}
	f, in, err := readScheduleForm(r)
	f.IsNew, f.Kind, in.Kind = true, string(schedule.KindDelivery), schedule.KindDelivery
	if err == nil && f.Name == "" {
		err = &core.FieldError{Field: "name", Code: core.CodeRequired, Message: "a name is required"}
	}
	if err == nil {
		_, err = s.svc.AddSchedule(r.Context(), in)
	}
	if err != nil {
		s.renderScheduleForm(w, r, http.StatusUnprocessableEntity, f, err)
		return
	}
	st.saved = &scheduleDone{Name: f.Name}
	http.Redirect(w, r, "/schedules?created="+url.QueryEscape(f.Name), http.StatusSeeOther)
}

func (s *Server) scheduleUpdate(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	old, err := s.svc.Schedule(r.Context(), name)
	if err != nil {
		s.fail(w, r, s.newView(r, "schedules", nil), err)
		return
	}
	f, in, err := readScheduleForm(r)
	// What a schedule is stays: its name, kind and (for a keep-alive) account.
	f.Name, f.Kind = old.Name, string(old.Kind)
	if old.Kind == schedule.KindKeepAlive {
		f.Target = old.Target // as the form shows it again; core keeps it
	}
	if err == nil {
		_, err = s.svc.EditSchedule(r.Context(), name, in)
	}
	if err != nil {
		s.renderScheduleForm(w, r, http.StatusUnprocessableEntity, f, err)
		return
	}
	http.Redirect(w, r, "/schedules?saved="+url.QueryEscape(name), http.StatusSeeOther)
}
