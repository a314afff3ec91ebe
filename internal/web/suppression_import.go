package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// Adding a list file to the suppression list: upload, then see what the
// file holds and choose its sheet and address column (the wizard's list
// step, readList), give a reason, import. The file is kept as a draft of
// its own kind under the console's upload folder until then, and removed
// once imported or given up.

// maxRejectedShown bounds the rejected rows a result lists; the count is
// always whole.
const maxRejectedShown = 1000

// suppressImportView is the import page: the file read, then the result.
type suppressImportView struct {
	Draft   *draft
	List    *listView
	Reason  string
	Problem *problem
	Result  *suppressImportResult
}

type suppressImportResult struct {
	Added, Already, Rejected int
	Rows                     []listProblem // the first maxRejectedShown rejected rows
}

func suppressImportURL(dr *draft) string { return "/suppression/import/" + url.PathEscape(dr.ID) }

func (s *Server) suppressUpload(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "suppression", nil)
	failed := func(err error) {
		pr := s.uploadProblem(v, err)
		pr.Field = "list"
		v.Errors["list"] = pr.Message
		s.renderSuppression(w, r, v, http.StatusUnprocessableEntity, &suppressionView{Problem: &pr})
	}
	if r.MultipartForm == nil || len(r.MultipartForm.File["list"]) == 0 {
		failed(errors.New("no list"))
		return
	}
	dr, err := s.drafts.create()
	if err == nil {
		dr.Kind = "suppress"
		err = s.drafts.save(dr)
	}
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	if err := s.readList(r, dr); err != nil {
		s.drafts.remove(dr.ID)
		var ie *internalErr
		if errors.As(err, &ie) {
			s.fail(w, r, v, ie.err)
			return
		}
		failed(err)
		return
	}
	http.Redirect(w, r, suppressImportURL(dr), http.StatusSeeOther)
}

// suppressImportOf loads the import in the path; one imported or given up is
// said to be gone.
func (s *Server) suppressImportOf(w http.ResponseWriter, r *http.Request) (*draft, bool) {
	dr, err := s.drafts.load(r.PathValue("draft"))
	if err == nil && dr.Kind != "suppress" {
		err = errNoDraft
	}
	if err != nil {
		v := s.newView(r, "suppression", nil)
		if errors.Is(err, errNoDraft) {
			v.Title = v.T("suppress.import.gone.title")
			v.Data = problem{Message: v.T("suppress.import.gone.body")}
			s.render(w, http.StatusNotFound, "error", v)
			return nil, false
		}
		s.fail(w, r, v, err)
		return nil, false
	}
	return dr, true
}

func (s *Server) renderSuppressImport(w http.ResponseWriter, r *http.Request, status int, iv *suppressImportView) {
	v := s.newView(r, "suppression", iv)
	v.Title = v.T("suppress.import.title")
	if iv.Problem != nil {
		v.Errors[iv.Problem.Field] = iv.Problem.Message
	}
	s.render(w, status, "suppression_import", v)
}

func (s *Server) suppressImportReview(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.suppressImportOf(w, r)
	if !ok {
		return
	}
	s.renderSuppressImport(w, r, http.StatusOK, &suppressImportView{Draft: dr, List: s.drafts.summary(dr)})
}

// suppressImportOptions reads the file again with the sheet, column or encoding
// chosen.
func (s *Server) suppressImportOptions(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.suppressImportOf(w, r)
	if !ok {
		return
	}
	if err := s.readList(r, dr); err != nil {
		v := s.newView(r, "suppression", nil)
		var ie *internalErr
		if errors.As(err, &ie) {
			s.fail(w, r, v, ie.err)
			return
		}
		pr := s.uploadProblem(v, err)
		pr.Field = "list"
		s.renderSuppressImport(w, r, http.StatusUnprocessableEntity, &suppressImportView{Draft: dr, List: s.drafts.summary(dr), Problem: &pr})
		return
	}
	http.Redirect(w, r, suppressImportURL(dr), http.StatusSeeOther)
}

// suppressImportRun adds every address of the file, says what happened to each
// row, and removes the file.
func (s *Server) suppressImportRun(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.suppressImportOf(w, r)
	if !ok {
		return
	}
	reason := strings.TrimSpace(r.FormValue("reason"))
	iv := &suppressImportView{Draft: dr, List: s.drafts.summary(dr), Reason: reason}
	v := s.newView(r, "suppression", nil)
	if dr.EmailColumn == "" {
		iv.Problem = &problem{Field: "email_column", Message: v.T("suppress.import.nocolumn")}
		s.renderSuppressImport(w, r, http.StatusUnprocessableEntity, iv)
		return
	}
	res, err := s.svc.ImportSuppressions(r.Context(), s.drafts.listPath(dr), reason, s.listInput(dr))
	if err != nil {
		var fe *core.FieldError
		if !errors.As(err, &fe) {
			s.fail(w, r, v, err)
			return
		}
		pr := s.uploadProblem(v, err)
		pr.Field = "list"
		iv.Problem = &pr
		s.renderSuppressImport(w, r, http.StatusUnprocessableEntity, iv)
		return
	}
	s.drafts.remove(dr.ID)
	iv.Result = &suppressImportResult{Added: res.Added, Already: res.Already, Rejected: len(res.Rejected)}
	for _, rj := range res.Rejected[:min(len(res.Rejected), maxRejectedShown)] {
		iv.Result.Rows = append(iv.Result.Rows, rejectedProblem(rj))
	}
	s.renderSuppressImport(w, r, http.StatusOK, iv)
}

// rejectedProblem is a rejected row as the list step words a bad row.
func rejectedProblem(rj core.RejectedLine) listProblem {
	var re *recipients.RowError
	if errors.As(rj.Err, &re) {
		return problemOf(re)
	}
	p := listProblem{Row: rj.Line, Text: rj.Err.Error()}
	var ae *recipients.AddressError
	if errors.As(rj.Err, &ae) {
		p.Code, p.Value = "address."+ae.Code, ae.Addr
	}
	return p
}

func (s *Server) suppressImportCancel(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.suppressImportOf(w, r)
	if !ok {
		return
	}
	s.drafts.remove(dr.ID)
	http.Redirect(w, r, "/suppression?cancelled=1", http.StatusSeeOther)
}
