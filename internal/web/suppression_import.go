package web

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// Adding a list file to the suppression list: upload, then see what the
// file holds and choose its sheet and address column (the wizard's list
// step, readList), give a reason, import. The file is kept as a draft of
// its own kind under the console's upload folder until then. Once imported
// the file goes and the result stays beside the draft (swept with it), so
// the result page survives a reload; given up, all of it goes. A file of
// one address per line has no header row: it is shown as a list of
// addresses, not as a table whose first address names the column.

// maxRejectedShown bounds the rejected rows a result lists; the count is
// always whole.
const maxRejectedShown = 1000

// suppressImportView is the import page: the file read, then the result.
type suppressImportView struct {
	Draft     *draft
	List      *listView
	Plain     *core.PlainList // a file of one address per line (List is then not used)
	PlainRows []listProblem   // its lines that are not addresses
	Reason    string
	Problem   *problem
	Result    *suppressImportResult
}

type suppressImportResult struct {
	Added    int           `json:"added"`
	Already  int           `json:"already"`
	Rejected int           `json:"rejected"`
	Rows     []listProblem `json:"rows,omitempty"` // the first maxRejectedShown rejected rows
}

func suppressImportURL(dr *draft) string { return "/suppression/import/" + url.PathEscape(dr.ID) }

// resultPath is where a finished import keeps its result.
func (d *drafts) resultPath(dr *draft) string {
	return filepath.Join(d.dir(dr.ID), "import-result.json")
}

// importResult is the stored result of a finished import (nil: not run).
func (d *drafts) importResult(dr *draft) *suppressImportResult {
	return readKept[suppressImportResult](d.resultPath(dr))
}

// importedAlready sends a request for an import that ran (the form sent
// twice, the back button) to its result: it runs once.
func (s *Server) importedAlready(w http.ResponseWriter, r *http.Request, dr *draft) bool {
	if s.drafts.importResult(dr) == nil {
		return false
	}
	http.Redirect(w, r, suppressImportURL(dr)+"/result", http.StatusSeeOther)
	return true
}

// plainOf reads the uploaded file as a plain address list, or nil.
func (s *Server) plainOf(r *http.Request, dr *draft, iv *suppressImportView) error {
	p, err := s.svc.InspectPlainList(r.Context(), s.drafts.listPath(dr))
	if err != nil || p == nil {
		return err
	}
	iv.Plain = p
	for _, rj := range p.Rejected {
		iv.PlainRows = append(iv.PlainRows, rejectedProblem(rj))
	}
	return nil
}

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
		var ie *internalErr
		if errors.As(err, &ie) {
			s.drafts.remove(dr.ID)
			s.fail(w, r, v, ie.err)
			return
		}
		// A plain list of one address is no table (a header, no rows),
		// but it is a list of addresses.
		if dr.ListName != "" {
			if p, perr := s.svc.InspectPlainList(r.Context(), s.drafts.listPath(dr)); perr == nil && p != nil {
				http.Redirect(w, r, suppressImportURL(dr), http.StatusSeeOther)
				return
			}
		}
		s.drafts.remove(dr.ID)
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
	v.flagField(iv.Problem)
	s.render(w, status, "suppression_import", v)
}

func (s *Server) suppressImportReview(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.suppressImportOf(w, r)
	if !ok {
		return
	}
	if s.importedAlready(w, r, dr) {
		return
	}
	iv := &suppressImportView{Draft: dr, List: s.drafts.summary(dr)}
	if err := s.plainOf(r, dr, iv); err != nil {
		s.fail(w, r, s.newView(r, "suppression", nil), err)
		return
	}
	s.renderSuppressImport(w, r, http.StatusOK, iv)
}

// suppressImportResultPage shows a finished import's result, as often as
// it is reloaded.
func (s *Server) suppressImportResultPage(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.suppressImportOf(w, r)
	if !ok {
		return
	}
	res := s.drafts.importResult(dr)
	if res == nil {
		http.Redirect(w, r, suppressImportURL(dr), http.StatusSeeOther)
		return
	}
	s.renderSuppressImport(w, r, http.StatusOK, &suppressImportView{Draft: dr, Result: res})
}

// suppressImportOptions reads the file again with the sheet, column or encoding
// chosen.
func (s *Server) suppressImportOptions(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.suppressImportOf(w, r)
	if !ok {
		return
	}
	if s.importedAlready(w, r, dr) {
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
		if pr.Field == "" {
			pr.Field = "list"
		}
		s.renderSuppressImport(w, r, http.StatusUnprocessableEntity, &suppressImportView{Draft: dr, List: s.drafts.summary(dr), Problem: &pr})
		return
	}
	http.Redirect(w, r, suppressImportURL(dr), http.StatusSeeOther)
}

// suppressImportRun adds every address of the file, says what happened to each
// row, and removes the file.
func (s *Server) suppressImportRun(w http.ResponseWriter, r *http.Request) {
	// One run at a time per upload: the form sent again while the first
	// run reads the file (a double click) waits, then shows its result.
	st := s.starts.of("suppress/" + r.PathValue("draft"))
	st.mu.Lock()
	defer st.mu.Unlock()
	dr, ok := s.suppressImportOf(w, r)
	if !ok {
		return
	}
	if s.importedAlready(w, r, dr) {
		return
	}
	reason := strings.TrimSpace(r.FormValue("reason"))
	iv := &suppressImportView{Draft: dr, List: s.drafts.summary(dr), Reason: reason}
	v := s.newView(r, "suppression", nil)
	if err := s.plainOf(r, dr, iv); err != nil {
		s.fail(w, r, v, err)
		return
	}
	if iv.Plain == nil && dr.EmailColumn == "" {
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
	result := &suppressImportResult{Added: res.Added, Already: res.Already, Rejected: len(res.Rejected)}
	for _, rj := range res.Rejected[:min(len(res.Rejected), maxRejectedShown)] {
		result.Rows = append(result.Rows, rejectedProblem(rj))
	}
	// The file goes now; the result stays for the page after the
	// redirect, and its reloads.
	os.RemoveAll(s.drafts.listDir(dr.ID))
	os.Remove(s.drafts.summaryPath(dr))
	if err := writeKept(s.drafts.resultPath(dr), result); err != nil {
		s.drafts.remove(dr.ID)
		s.logf("console: keeping an import's result: %v", err)
		s.renderSuppressImport(w, r, http.StatusOK, &suppressImportView{Draft: dr, Result: result})
		return
	}
	http.Redirect(w, r, suppressImportURL(dr)+"/result", http.StatusSeeOther)
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
