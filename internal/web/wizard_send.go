package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// ---- Step 4: check, then send now, save or schedule -----------------

// checkPage is the preflight table and the three ways on.
type checkPage struct {
	Check *core.DeliveryCheck
	// What was typed in the save and schedule forms, kept on a refusal.
	Name, When, At string
	repeatForm
	Replace     bool
	Done        *scheduleDone // after saving or scheduling
	SendProblem *problem      // a refused send, beside its button
}

// scheduleDone says what was saved or scheduled.
type scheduleDone struct {
	Name string
	Next time.Time // the schedule's next run (zero: only saved)
}

func (s *Server) sendInput(dr *draft, name string) core.SendInput {
	return core.SendInput{Account: dr.Account, Name: name, List: s.listInput(dr), Message: s.messageInput(dr),
		SkipInvalid: true, DailyWait: core.DefaultDailyWait}
}

func (s *Server) checkStep(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.draftOf(w, r)
	if !ok {
		return
	}
	s.renderCheck(w, r, dr, http.StatusOK, &checkPage{When: "once", repeatForm: defaultRepeat})
}

func (s *Server) renderCheck(w http.ResponseWriter, r *http.Request, dr *draft, status int, cp *checkPage) {
	v, p := s.wizardView(r, dr, "check")
	if !p.Open["check"] {
		http.Redirect(w, r, stepURL(dr, "message"), http.StatusSeeOther)
		return
	}
	c, err := s.svc.CheckDelivery(r.Context(), s.sendInput(dr, ""))
	if err != nil {
		pr := s.messageProblem(v, err)
		p.Problem = &pr
		status = http.StatusUnprocessableEntity
	}
	cp.Check = c
	if cp.Name == "" {
		cp.Name = savedNameOf(dr)
	}
	v.flagField(cp.SendProblem)
	p.Data = cp
	s.render(w, status, "wizard_check", v)
}

// savedNameOf proposes a name for saving: the list's file name, made fit
// for a cron line and a folder name (core.CheckSavedName).
func savedNameOf(dr *draft) string {
	base := strings.TrimSuffix(dr.ListName, filepath.Ext(dr.ListName))
	// A space, ".", ":", "(" and the like become "-": the name is a
	// schedule's too when the step schedules it (core.CheckScheduleName).
	base = strings.TrimLeft(schedule.NameFrom(base), "-_")
	if core.CheckSavedName(base) != nil || core.CheckScheduleName(base) != nil { // empty, too long, or a name like CON
		base = "delivery"
	}
	return base
}

// wizardSend starts the delivery in the background and opens its page.
// The preflight runs again (the list may have changed on disk), with the
// sign-in to the server this time. A draft is sent once: the same form
// sent again, even while the first is being started, opens the delivery
// the first started.
func (s *Server) wizardSend(w http.ResponseWriter, r *http.Request) {
	ds := s.starts.of("draft/" + r.PathValue("draft"))
	ds.mu.Lock()
	defer ds.mu.Unlock()
	if ds.delivery != 0 {
		http.Redirect(w, r, "/deliveries/"+strconv.FormatInt(ds.delivery, 10), http.StatusSeeOther)
		return
	}
	dr, ok := s.draftOf(w, r)
	if !ok {
		return
	}
	v := s.newView(r, "deliveries", nil)
	res, err := s.svc.StartDelivery(r.Context(), s.sendInput(dr, strings.TrimSpace(r.FormValue("name"))))
	if err != nil {
		pr := v.sendProblem(err)
		var busy *core.BusyError
		if errors.As(err, &busy) && busy.DeliveryID != 0 {
			// The delivery is stored and ready: its page says how to go on.
			ds.delivery = busy.DeliveryID
			s.markSent(dr, busy.DeliveryID)
			http.Redirect(w, r, "/deliveries/"+strconv.FormatInt(busy.DeliveryID, 10)+"?busy=1", http.StatusSeeOther)
			return
		}
		s.renderCheck(w, r, dr, http.StatusUnprocessableEntity, &checkPage{When: "once", repeatForm: defaultRepeat, SendProblem: &pr})
		return
	}
	s.logf("console: delivery %d started (%d recipients)", res.DeliveryID, res.Preflight.Ready)
	ds.delivery = res.DeliveryID
	s.markSent(dr, res.DeliveryID)
	http.Redirect(w, r, "/deliveries/"+strconv.FormatInt(res.DeliveryID, 10), http.StatusSeeOther)
}

// markSent ends a draft that became a delivery: its files go at once,
// unless an attachment column names some, which each message reads as it
// is sent (then they go once the delivery is over: sweepSent).
func (s *Server) markSent(dr *draft, id int64) {
	if dr.AttachColumn == "" {
		s.drafts.remove(dr.ID)
		return
	}
	dr.DeliveryID = id
	if err := s.drafts.save(dr); err != nil {
		s.logf("console: draft %s: %v", dr.ID, err)
	}
}

// sendProblem words a refused start of a delivery (the wizard's or a saved
// one's): a failed sign-in to the server is said as such, before its cause.
func (v *view) sendProblem(err error) problem {
	var sc *core.SignInCheckError
	if !errors.As(err, &sc) {
		return v.explain(err)
	}
	pr := v.explain(sc.Err)
	pr.Message = v.T("wizard.send.signin_failed", sc.Server) + " " + pr.Message
	pr.SignIn = pr.SignIn || isSignIn(sc.Err)
	return pr
}

func isSignIn(err error) bool {
	var n interface{ NeedsSignIn() bool }
	return errors.As(err, &n) && n.NeedsSignIn()
}

// wizardSave saves the delivery under a name, for `bluemoon run NAME`, a
// schedule, or sending later.
func (s *Server) wizardSave(w http.ResponseWriter, r *http.Request) {
	st, dr, cp, done := s.savedAgain(w, r, "save")
	if done {
		return
	}
	defer st.mu.Unlock()
	if err := s.saveDraft(r, dr, cp.Name, cp.Replace); err != nil {
		s.refuseCheck(w, r, dr, cp, err)
		return
	}
	cp.Done = &scheduleDone{Name: cp.Name}
	st.savedKey, st.saved = savedKey("save", dr, cp), cp.Done
	s.renderCheck(w, r, dr, http.StatusOK, cp)
}

// savedAgain begins a save or schedule of the draft in the path: it takes
// the draft's turn (st.mu, which the caller unlocks unless done) and, when
// the same form of the same draft was done already (a double click), shows
// what was done again instead of refusing its name as taken.
func (s *Server) savedAgain(w http.ResponseWriter, r *http.Request, action string) (st *start, dr *draft, cp *checkPage, done bool) {
	st = s.starts.of("draft/" + r.PathValue("draft"))
	st.mu.Lock()
	dr, ok := s.draftOf(w, r)
	if !ok {
		st.mu.Unlock()
		return nil, nil, nil, true
	}
	cp = checkForm(r)
	if st.saved != nil && st.savedKey == savedKey(action, dr, cp) {
		defer st.mu.Unlock()
		cp.Done = st.saved
		s.renderCheck(w, r, dr, http.StatusOK, cp)
		return nil, nil, nil, true
	}
	return st, dr, cp, false
}

// savedKey is a save or schedule form of a draft as it stands (a draft
// changed since is saved anew).
func savedKey(action string, dr *draft, cp *checkPage) string {
	return fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s\x00%v", action, cp.Name, cp.When, cp.At, cp.repeatForm, dr.Touched.UnixNano())
}

// wizardSchedule saves the delivery and schedules it, once or repeating.
func (s *Server) wizardSchedule(w http.ResponseWriter, r *http.Request) {
	st, dr, cp, done := s.savedAgain(w, r, "schedule")
	if done {
		return
	}
	defer st.mu.Unlock()
	in := core.ScheduleInput{Name: cp.Name, Kind: schedule.KindDelivery, Target: cp.Name, Missed: schedule.MissedSkip, Preflight: schedule.DefaultPreflight}
	if cp.When == "once" {
		if cp.At == "" {
			s.refuseCheck(w, r, dr, cp, &core.FieldError{Field: "at", Code: core.CodeRequired, Message: "a time is required"})
			return
		}
		in.At = strings.Replace(cp.At, "T", " ", 1)
	} else {
		c, err := cp.cron()
		if err != nil {
			s.refuseCheck(w, r, dr, cp, err)
			return
		}
		in.Cron = c
	}
	// The name is the schedule's too: refused as one, nothing is saved.
	if err := core.CheckScheduleName(cp.Name); err != nil {
		s.refuseCheck(w, r, dr, cp, err)
		return
	}
	if _, err := s.svc.Schedule(r.Context(), cp.Name); err == nil && !cp.Replace {
		s.refuseCheck(w, r, dr, cp, &core.FieldError{Field: "name", Code: core.CodeExists, Message: "a schedule of that name exists"})
		return
	}
	if err := s.saveDraft(r, dr, cp.Name, cp.Replace); err != nil {
		s.refuseCheck(w, r, dr, cp, err)
		return
	}
	if cp.Replace {
		_ = s.svc.RemoveSchedule(r.Context(), cp.Name)
	}
	info, err := s.svc.AddSchedule(r.Context(), in)
	if err != nil {
		s.refuseCheck(w, r, dr, cp, err)
		return
	}
	cp.Done = &scheduleDone{Name: cp.Name, Next: info.Next}
	st.savedKey, st.saved = savedKey("schedule", dr, cp), cp.Done
	s.renderCheck(w, r, dr, http.StatusOK, cp)
}

func checkForm(r *http.Request) *checkPage {
	g := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
	return &checkPage{Name: g("name"), When: g("when"), At: g("at"), repeatForm: readRepeatForm(r), Replace: r.FormValue("replace") != ""}
}

func (s *Server) refuseCheck(w http.ResponseWriter, r *http.Request, dr *draft, cp *checkPage, err error) {
	v := s.newView(r, "deliveries", nil)
	pr := v.explainIn(err, "wizard.save.error")
	if pr.Field == "" {
		pr.Field = "name"
	}
	cp.SendProblem = &pr
	s.renderCheck(w, r, dr, http.StatusUnprocessableEntity, cp)
}

// repeatForm is a simple repeat as the wizard's and the schedules page's
// forms offer it, as typed.
type repeatForm struct {
	Every, Time, Weekday, Day string
}

// defaultRepeat is the repeat a form proposes: daily at 09:00 (weekly on
// Monday, monthly on the 1st when the person picks those).
var defaultRepeat = repeatForm{Every: schedule.EveryDay, Time: "09:00", Weekday: "1", Day: "1"}

func readRepeatForm(r *http.Request) repeatForm {
	g := func(k string) string { return strings.TrimSpace(r.FormValue(k)) }
	return repeatForm{Every: g("every"), Time: g("time"), Weekday: g("weekday"), Day: g("day")}
}

// cron is the repeat's cron line, its mistakes named by field.
func (f repeatForm) cron() (string, error) {
	h, m, err := schedule.ParseClock(f.Time)
	if err != nil {
		return "", &core.FieldError{Field: "time", Code: core.CodeInvalid, Message: fmt.Sprintf("%q is not a time (HH:MM)", f.Time), Err: err}
	}
	r := schedule.Repeat{Every: f.Every, Hour: h, Minute: m, Weekday: -1}
	switch f.Every {
	case schedule.EveryWeek:
		if n, err := strconv.Atoi(f.Weekday); err == nil {
			r.Weekday = n
		}
	case schedule.EveryMonth:
		if n, err := strconv.Atoi(f.Day); err == nil {
			r.Day = n
		}
	}
	c, err := r.Cron()
	switch {
	case errors.Is(err, schedule.ErrRepeatWeekday):
		return "", &core.FieldError{Field: "weekday", Code: core.CodeInvalid, Message: "choose a day of the week", Err: err}
	case errors.Is(err, schedule.ErrRepeatDay):
		return "", &core.FieldError{Field: "day", Code: core.CodeInvalid, Message: err.Error(), Err: err}
	case err != nil:
		return "", &core.FieldError{Field: "every", Code: core.CodeInvalid, Message: "choose how often", Err: err}
	}
	return c, nil
}

// saveDraft copies the draft's files into a folder of the saved
// delivery's own (the draft may go; a saved delivery is run weeks later)
// and saves the delivery under name.
func (s *Server) saveDraft(r *http.Request, dr *draft, name string, replace bool) error {
	if _, err := s.svc.SavedDelivery(r.Context(), name); err == nil && !replace {
		return &core.FieldError{Field: "name", Code: core.CodeExists, Message: "a saved delivery of that name exists"}
	} else if errors.Is(err, core.ErrNotFound) {
		// A new one: its name is checked before its folder is made.
		if err := core.CheckSavedName(name); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	final := s.drafts.savedDir(name)
	tmp := final + ".new-" + randomToken(6)
	old := final + ".old-" + randomToken(6)
	if err := copyTree(s.drafts.dir(dr.ID), tmp, []string{"list", "attach"}); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	for _, b := range []struct{ name, body string }{{"body.txt", dr.Text}, {"body.html", dr.HTML}} {
		if b.body != "" {
			if err := os.WriteFile(filepath.Join(tmp, b.name), []byte(b.body), 0o600); err != nil {
				os.RemoveAll(tmp)
				return err
			}
		}
	}
	hadOld := os.Rename(final, old) == nil
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		if hadOld {
			os.Rename(old, final)
		}
		return err
	}
	d := &saved.Delivery{Name: name, Account: dr.Account, Recipients: filepath.Join(final, "list", dr.ListName), Subject: dr.Subject,
		Charset: dr.Charset, EmailColumn: dr.EmailColumn, Encoding: dr.Encoding, SkipInvalid: true}
	if dr.Text != "" {
		d.Text = filepath.Join(final, "body.txt")
	}
	if dr.HTML != "" {
		d.HTML = filepath.Join(final, "body.html")
	}
	for _, a := range dr.Attachments {
		d.Attach = append(d.Attach, filepath.Join(final, "attach", a.Name))
	}
	if dr.Sheet != "" {
		d.SendArgs = append(d.SendArgs, "--sheet", dr.Sheet)
	}
	if dr.AttachColumn != "" {
		d.SendArgs = append(d.SendArgs, "--attach-column", dr.AttachColumn)
	}
	if dr.Signature {
		d.SendArgs = append(d.SendArgs, "--signature")
	}
	if err := s.svc.SaveDelivery(r.Context(), d); err != nil {
		os.RemoveAll(final)
		if hadOld {
			os.Rename(old, final)
		}
		return err
	}
	if hadOld {
		os.RemoveAll(old)
	}
	return nil
}

// copyTree copies the named subfolders of src into a new folder dst.
func copyTree(src, dst string, subs []string) error {
	for _, sub := range subs {
		if err := os.MkdirAll(filepath.Join(dst, sub), 0o700); err != nil {
			return err
		}
		ents, err := os.ReadDir(filepath.Join(src, sub))
		if err != nil {
			return err
		}
		for _, e := range ents {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".upload-") {
				continue
			}
			if err := copyFile(filepath.Join(src, sub, e.Name()), filepath.Join(dst, sub, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// wizardDiscard throws a draft and its files away.
func (s *Server) wizardDiscard(w http.ResponseWriter, r *http.Request) {
	if dr, err := s.drafts.load(r.PathValue("draft")); err == nil {
		s.drafts.remove(dr.ID)
	}
	http.Redirect(w, r, "/deliveries?discarded=1", http.StatusSeeOther)
}
