package web

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// 保存した配信: the deliveries saved under a name (at the wizard's last
// step, or with `bluemoon deliveries save`), which a schedule or `bluemoon
// run` sends later. Here a person runs one now, schedules it, or deletes
// it; a saved delivery a schedule runs is kept until the schedule goes
// (core refuses with an *InUseError).

func (s *Server) savedRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /deliveries/saved", s.savedList)
	mux.HandleFunc("GET /deliveries/saved/{name}/run", s.savedRunConfirm)
	mux.HandleFunc("POST /deliveries/saved/{name}/run", s.savedRun)
	mux.HandleFunc("POST /deliveries/saved/{name}/remove", s.savedRemove)
}

// savedRow is one saved delivery with the schedules that run it.
type savedRow struct {
	*saved.Delivery
	Schedules []string
	ListName  string // the list's file name, not its whole path
}

type savedPage struct {
	Rows    []*savedRow
	Problem *problem
}

func (s *Server) savedList(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "deliveries", nil)
	p, err := s.savedRows(r)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	q := r.URL.Query()
	if n := q.Get("removed"); n != "" {
		v.Flash = append(v.Flash, flash{Kind: "ok", Text: v.T("saved.flash.removed", n)})
	}
	v.Title = v.T("saved.title")
	v.Data = p
	s.render(w, http.StatusOK, "saved", v)
}

func (s *Server) savedRows(r *http.Request) (*savedPage, error) {
	ctx := r.Context()
	list, err := s.svc.SavedDeliveries(ctx)
	if err != nil {
		return nil, err
	}
	scheds, err := s.svc.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	p := &savedPage{}
	for _, d := range list {
		row := &savedRow{Delivery: d, ListName: filepath.Base(d.Recipients)}
		for _, sc := range scheds {
			if sc.Kind == schedule.KindDelivery && sc.Target == d.Name {
				row.Schedules = append(row.Schedules, sc.Name)
			}
		}
		p.Rows = append(p.Rows, row)
	}
	return p, nil
}

// savedRunPage is the confirmation before a saved delivery runs now: its
// preflight read from the files as they are today.
type savedRunPage struct {
	Saved   *saved.Delivery
	Check   *core.DeliveryCheck
	Problem *problem
	Once    string // the form's one-time key: sent twice, it runs once
}

func (s *Server) savedRunConfirm(w http.ResponseWriter, r *http.Request) {
	s.renderSavedRun(w, r, http.StatusOK, nil)
}

func (s *Server) renderSavedRun(w http.ResponseWriter, r *http.Request, status int, pr *problem) {
	v := s.newView(r, "deliveries", nil)
	name := r.PathValue("name")
	d, err := s.svc.SavedDelivery(r.Context(), name)
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	p := &savedRunPage{Saved: d, Problem: pr, Once: randomToken(12)}
	c, err := s.svc.CheckSaved(r.Context(), name)
	if err != nil {
		if p.Problem == nil {
			ex := v.explain(err)
			p.Problem = &ex
		}
		status = http.StatusUnprocessableEntity
	}
	p.Check = c
	v.Title = v.T("saved.run.title", name)
	v.Data = p
	s.render(w, status, "saved_run", v)
}

// savedRun starts the saved delivery in the background and opens its
// live page, as the wizard's send now does. The confirmation's form runs
// it once (its one-time key): sent again, it opens the delivery it started.
func (s *Server) savedRun(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "deliveries", nil)
	st := &start{}
	if once := r.FormValue("once"); once != "" {
		st = s.starts.of("saved/" + r.PathValue("name") + "/" + once)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.delivery != 0 {
		http.Redirect(w, r, "/deliveries/"+strconv.FormatInt(st.delivery, 10), http.StatusSeeOther)
		return
	}
	res, err := s.svc.StartSaved(r.Context(), r.PathValue("name"))
	if err != nil {
		var busy *core.BusyError
		if errors.As(err, &busy) && busy.DeliveryID != 0 {
			st.delivery = busy.DeliveryID
			http.Redirect(w, r, "/deliveries/"+strconv.FormatInt(busy.DeliveryID, 10)+"?busy=1", http.StatusSeeOther)
			return
		}
		if errors.Is(err, core.ErrNotFound) {
			s.fail(w, r, v, err)
			return
		}
		pr := v.sendProblem(err)
		s.renderSavedRun(w, r, http.StatusUnprocessableEntity, &pr)
		return
	}
	s.logf("console: saved delivery %s started as delivery %d (%d recipients)", r.PathValue("name"), res.DeliveryID, res.Preflight.Ready)
	st.delivery = res.DeliveryID
	http.Redirect(w, r, "/deliveries/"+strconv.FormatInt(res.DeliveryID, 10), http.StatusSeeOther)
}

// savedRemove deletes a saved delivery, and its files when the console
// made them (a delivery saved from the CLI points at the user's own
// files, which stay).
func (s *Server) savedRemove(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "deliveries", nil)
	name := r.PathValue("name")
	d, err := s.svc.SavedDelivery(r.Context(), name)
	if err == nil {
		err = s.svc.RemoveSavedDelivery(r.Context(), name)
	}
	var iu *core.InUseError
	switch {
	case errors.As(err, &iu):
		p, lerr := s.savedRows(r)
		if lerr != nil {
			s.fail(w, r, v, lerr)
			return
		}
		p.Problem = &problem{Message: v.T("saved.remove.in_use", name, strings.Join(iu.By, v.T("saved.list.sep"))), Fix: v.T("saved.remove.in_use.fix"), Detail: err.Error()}
		v.Title = v.T("saved.title")
		v.Data = p
		s.render(w, http.StatusConflict, "saved", v)
		return
	case err != nil:
		s.fail(w, r, v, err)
		return
	}
	dir := s.drafts.savedDir(name)
	if strings.HasPrefix(d.Recipients, dir+string(filepath.Separator)) {
		if err := os.RemoveAll(dir); err != nil {
			s.logf("console: saved delivery %s: its files: %v", name, err)
		}
	}
	http.Redirect(w, r, "/deliveries/saved?removed="+url.QueryEscape(name), http.StatusSeeOther)
}
