package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// A new delivery, step by step: リスト (upload and check the list), メッセージ
// (account, subject, bodies with merge fields, signature, charset,
// attachments), プレビュー (any row as its recipient gets it), 確認と送信 (the
// preflight table, then send now, save or schedule). Every step can be
// gone back to; what was entered is kept in the draft (drafts.go).

func (s *Server) wizardRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /deliveries/new", s.wizardStart)
	mux.HandleFunc("POST /deliveries/new", s.wizardCreate)
	mux.HandleFunc("GET /drafts/{draft}", s.wizardResume)
	mux.HandleFunc("GET /drafts/{draft}/list", s.listStep)
	mux.HandleFunc("POST /drafts/{draft}/list", s.listUpdate)
	mux.HandleFunc("GET /drafts/{draft}/message", s.messageStep)
	mux.HandleFunc("POST /drafts/{draft}/message", s.messageUpdate)
	mux.HandleFunc("GET /drafts/{draft}/preview", s.previewStep)
	mux.HandleFunc("GET /drafts/{draft}/preview/html", s.previewHTML)
	mux.HandleFunc("GET /drafts/{draft}/preview/eml", s.previewEML)
	mux.HandleFunc("GET /drafts/{draft}/check", s.checkStep)
	mux.HandleFunc("POST /drafts/{draft}/send", s.wizardSend)
	mux.HandleFunc("POST /drafts/{draft}/save", s.wizardSave)
	mux.HandleFunc("POST /drafts/{draft}/schedule", s.wizardSchedule)
	mux.HandleFunc("POST /drafts/{draft}/discard", s.wizardDiscard)
}

// The steps, in order, for the step bar.
var wizardSteps = []string{"list", "message", "preview", "check"}

// wizardPage is what every step's template sees.
type wizardPage struct {
	Draft   *draft
	Step    string
	Steps   []string
	Open    map[string]bool // the steps that can be visited now
	List    *listView
	Problem *problem
	Data    any // the step's own
}

func (s *Server) wizardView(r *http.Request, dr *draft, step string) (*view, *wizardPage) {
	v := s.newView(r, "deliveries", nil)
	p := &wizardPage{Draft: dr, Step: step, Steps: wizardSteps, Open: map[string]bool{"list": true}}
	if dr != nil {
		p.List = s.drafts.summary(dr)
		ready := p.List != nil && p.List.EmailColumn != ""
		p.Open["message"] = ready
		p.Open["preview"] = ready && dr.MessageDone
		p.Open["check"] = ready && dr.MessageDone
	}
	v.Title = v.T("wizard.title")
	v.Data = p
	return v, p
}

func (s *Server) wizardStart(w http.ResponseWriter, r *http.Request) {
	v, _ := s.wizardView(r, nil, "list")
	s.render(w, http.StatusOK, "wizard_list", v)
}

// wizardCreate makes a draft from the first upload of a list.
func (s *Server) wizardCreate(w http.ResponseWriter, r *http.Request) {
	if r.MultipartForm == nil || len(r.MultipartForm.File["list"]) == 0 {
		v, p := s.wizardView(r, nil, "list")
		p.Problem = &problem{Field: "list", Message: v.T("list.error.nofile")}
		v.Errors["list"] = p.Problem.Message
		s.render(w, http.StatusUnprocessableEntity, "wizard_list", v)
		return
	}
	dr, err := s.drafts.create()
	if err != nil {
		s.fail(w, r, s.newView(r, "deliveries", nil), err)
		return
	}
	s.applyList(w, r, dr)
}

// wizardResume goes to the step a draft is at.
func (s *Server) wizardResume(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.draftOf(w, r)
	if !ok {
		return
	}
	step := "list"
	if dr.MessageDone {
		step = "check"
	} else if dr.ListName != "" {
		step = "message"
	}
	http.Redirect(w, r, stepURL(dr, step), http.StatusSeeOther)
}

func stepURL(dr *draft, step string) string {
	return "/drafts/" + url.PathEscape(dr.ID) + "/" + step
}

// draftOf loads the draft in the path; a sent one leads to its delivery.
func (s *Server) draftOf(w http.ResponseWriter, r *http.Request) (*draft, bool) {
	dr, err := s.drafts.load(r.PathValue("draft"))
	if err != nil {
		v := s.newView(r, "deliveries", nil)
		if errors.Is(err, errNoDraft) {
			v.Title = v.T("wizard.gone.title")
			v.Data = problem{Message: v.T("wizard.gone.body")}
			s.render(w, http.StatusNotFound, "error", v)
			return nil, false
		}
		s.fail(w, r, v, err)
		return nil, false
	}
	if dr.Kind != "" {
		// Another screen's upload (a suppression import), not a delivery.
		s.renderStatus(w, r, http.StatusNotFound, "notfound", nil)
		return nil, false
	}
	if dr.DeliveryID != 0 {
		http.Redirect(w, r, "/deliveries/"+strconv.FormatInt(dr.DeliveryID, 10), http.StatusSeeOther)
		return nil, false
	}
	return dr, true
}

// ---- Step 1: the list ----------------------------------------------

// listView is a list as the list step shows it (kept beside the draft:
// reading a 100,000-row list again for every page would be slow).
type listView struct {
	Format      string        `json:"format"`
	Encoding    string        `json:"encoding"`
	Sheet       string        `json:"sheet,omitempty"`
	Sheets      []string      `json:"sheets,omitempty"`
	Columns     []string      `json:"columns"`
	EmailColumn string        `json:"email_column"`
	Sample      []sampleRow   `json:"sample"`
	Rows        int           `json:"rows"`
	Valid       int           `json:"valid"`
	Duplicates  int           `json:"duplicates"`
	Suppressed  int           `json:"suppressed"`
	Problems    []listProblem `json:"problems,omitempty"`
	ProblemRows int           `json:"problem_rows"`
	Size        int64         `json:"size"`
	Millis      int           `json:"millis"` // how long reading it took
}

type sampleRow struct {
	Number int      `json:"n"`
	Cells  []string `json:"cells"`
}

// listProblem is a bad row: Code picks the words, the rest fills them in;
// Text is the English for a problem without a code.
type listProblem struct {
	Row   int    `json:"row"`
	Field string `json:"field,omitempty"`
	Code  string `json:"code,omitempty"`
	Value string `json:"value,omitempty"`
	Got   int    `json:"got,omitempty"`
	Want  int    `json:"want,omitempty"`
	Text  string `json:"text"`
}

func problemOf(re *recipients.RowError) listProblem {
	p := listProblem{Row: re.Row, Field: re.Field, Text: re.Err.Error()}
	var ae *recipients.AddressError
	var ce *recipients.CellCountError
	switch {
	case errors.As(re.Err, &ae):
		p.Code, p.Value = "address."+ae.Code, ae.Addr
	case errors.As(re.Err, &ce):
		p.Code, p.Got, p.Want = "cells", ce.Got, ce.Want
	case errors.Is(re.Err, recipients.ErrNotUTF8):
		p.Code = delivery.CodeNotUTF8
	case errors.As(re.Err, new(*recipients.QuoteError)):
		p.Code = delivery.CodeQuote
	}
	return p
}

func (d *drafts) summaryPath(dr *draft) string { return filepath.Join(d.dir(dr.ID), "summary.json") }

func (d *drafts) summary(dr *draft) *listView { return readKept[listView](d.summaryPath(dr)) }

func (d *drafts) setSummary(dr *draft, lv *listView) error { return writeKept(d.summaryPath(dr), lv) }

func (s *Server) listInput(dr *draft) core.ListInput {
	return core.ListInput{Path: s.drafts.listPath(dr), Encoding: dr.Encoding, Sheet: dr.Sheet, EmailColumn: dr.EmailColumn}
}

func (s *Server) listStep(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.draftOf(w, r)
	if !ok {
		return
	}
	v, _ := s.wizardView(r, dr, "list")
	s.render(w, http.StatusOK, "wizard_list", v)
}

func (s *Server) listUpdate(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.draftOf(w, r)
	if !ok {
		return
	}
	s.applyList(w, r, dr)
}

// applyList keeps an uploaded list and the options chosen for reading it,
// reads it through, and shows what it holds.
func (s *Server) applyList(w http.ResponseWriter, r *http.Request, dr *draft) {
	v, p := s.wizardView(r, dr, "list")
	if err := s.readList(r, dr); err != nil {
		var ie *internalErr
		if errors.As(err, &ie) {
			s.fail(w, r, v, ie.err)
			return
		}
		pr := s.uploadProblem(v, err)
		if pr.Field == "" {
			pr.Field = "list"
		}
		p.Problem = &pr
		v.Errors[pr.Field] = pr.Message
		p.List = s.drafts.summary(dr)
		s.render(w, http.StatusUnprocessableEntity, "wizard_list", v)
		return
	}
	http.Redirect(w, r, stepURL(dr, "list"), http.StatusSeeOther)
}

// internalErr is a failure of the console itself, not of what was
// uploaded or chosen: the error page, not a word beside the field.
type internalErr struct{ err error }

func (e *internalErr) Error() string { return e.err.Error() }

// readList keeps an uploaded list (the form's "list" file) or the options
// chosen for reading the one kept (encoding, sheet, email_column), reads
// it through and keeps what it holds beside the draft (summary). The
// wizard's list step and the suppression list's import both read a list
// this way.
func (s *Server) readList(r *http.Request, dr *draft) error {
	// How the kept list was read until now: a choice of options it
	// cannot be read with is undone, and the list stays as it was read.
	var before *draft
	if r.MultipartForm != nil && len(r.MultipartForm.File["list"]) > 0 {
		fh := r.MultipartForm.File["list"][0]
		old := dr.ListName
		f, err := s.drafts.keep(dr, s.drafts.listDir(dr.ID), fh, maxListBytes)
		if err != nil {
			return err
		}
		if old != "" && old != f.Name {
			os.Remove(filepath.Join(s.drafts.listDir(dr.ID), old))
		}
		// A new list: how to read it is found again.
		dr.ListName, dr.Sheet, dr.EmailColumn, dr.Encoding = f.Name, "", "", ""
	} else if dr.ListName != "" {
		if s.drafts.summary(dr) != nil {
			was := *dr
			before = &was
		}
		dr.Encoding = r.FormValue("encoding")
		if dr.Encoding == "auto" {
			dr.Encoding = ""
		}
		if sh := r.FormValue("sheet"); sh != dr.Sheet {
			dr.Sheet, dr.EmailColumn = sh, ""
		} else {
			dr.EmailColumn = r.FormValue("email_column")
		}
	}
	if dr.ListName == "" {
		return errors.New("no list")
	}
	if err := s.drafts.save(dr); err != nil {
		return &internalErr{err}
	}
	lv, err := s.inspect(r, dr)
	if err != nil {
		if before != nil {
			dr.Encoding, dr.Sheet, dr.EmailColumn = before.Encoding, before.Sheet, before.EmailColumn
			if serr := s.drafts.save(dr); serr != nil {
				return &internalErr{serr}
			}
			return err
		}
		os.Remove(s.drafts.summaryPath(dr))
		return err
	}
	if err := s.drafts.setSummary(dr, lv); err != nil {
		return &internalErr{err}
	}
	if dr.EmailColumn == "" && lv.EmailColumn != "" {
		dr.EmailColumn = lv.EmailColumn
		s.drafts.save(dr)
	}
	return nil
}

func (s *Server) inspect(r *http.Request, dr *draft) (*listView, error) {
	start := nowMillis()
	in := s.listInput(dr)
	sum, err := s.svc.InspectList(r.Context(), in)
	if err != nil {
		return nil, err
	}
	lv := &listView{Format: sum.Format, Encoding: sum.Encoding, Sheet: sum.Sheet, Sheets: sum.Sheets, Columns: sum.Columns,
		EmailColumn: sum.EmailColumn, Rows: sum.Rows, Valid: sum.Valid, Duplicates: sum.Duplicates, Suppressed: sum.Suppressed,
		ProblemRows: sum.ProblemRows}
	for _, row := range sum.Sample {
		lv.Sample = append(lv.Sample, sampleRow{Number: row.Number, Cells: row.Cells})
	}
	for _, pr := range sum.Problems {
		lv.Problems = append(lv.Problems, problemOf(pr))
	}
	if fi, err := os.Stat(in.Path); err == nil {
		lv.Size = fi.Size()
	}
	lv.Millis = int(nowMillis() - start)
	return lv, nil
}

// uploadProblem words an upload's refusal.
func (s *Server) uploadProblem(v *view, err error) problem {
	var big *errTooLarge
	var bad *errBadName
	switch {
	case errors.As(err, &big):
		return problem{Message: v.T("wizard.error.toolarge", big.Name, big.Limit>>20)}
	case errors.As(err, &bad):
		return problem{Message: v.T("wizard.error.badname", bad.Name), Detail: err.Error()}
	case err.Error() == "no list":
		return problem{Message: v.T("list.error.nofile")}
	}
	var ee *recipients.EncodingError
	if errors.As(err, &ee) {
		found := ee.Found
		if found == "" {
			found = "other"
		}
		return problem{Field: "encoding", Message: v.T("list.error.encoding." + ee.Chosen + "." + found), Detail: err.Error()}
	}
	var fe *core.FieldError
	if errors.As(err, &fe) && fe.Field == "recipients" {
		return problem{Message: v.T("list.error.unreadable"), Fix: v.T("list.fix.unreadable"), Detail: err.Error()}
	}
	return v.explain(err)
}

// problemText is a bad row's reason in the user's language.
func (v *view) ProblemText(p listProblem) string {
	switch {
	case p.Code == "cells":
		return v.T("list.problem.cells", p.Got, p.Want)
	case p.Code == "address.empty":
		return v.T("list.problem.address.empty")
	case p.Code == delivery.CodeNotUTF8:
		return v.T("check.problem.not_utf8", p.Field)
	case p.Code == delivery.CodeQuote:
		return v.T("list.problem.quote")
	case p.Code != "" && v.Has("list.problem."+p.Code):
		return v.T("list.problem."+p.Code, p.Value)
	}
	return p.Text
}

func nowMillis() int64 { return time.Now().UnixMilli() }

// Size says a file size (an int or int64) in the units a person expects.
func (v *view) Size(size any) string {
	var n int64
	switch x := size.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	}
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", (n+512)>>10)
	}
	return v.T("wizard.bytes", n)
}
