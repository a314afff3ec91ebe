package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// ---- Step 3: the preview -------------------------------------------

// previewPage is one row's message as its recipient gets it.
type previewPage struct {
	Row    int
	Result *core.PreviewResult
	First  int // the list's first row with a recipient
}

// previewRow is the row asked for (?row=), else the first row with a
// recipient.
func (s *Server) previewRow(r *http.Request, lv *listView) int {
	if n, err := strconv.Atoi(r.URL.Query().Get("row")); err == nil && n >= 2 {
		return n
	}
	if lv != nil && len(lv.Sample) > 0 {
		return lv.Sample[0].Number
	}
	return 2
}

func (s *Server) previewInput(dr *draft, row int) core.PreviewInput {
	return core.PreviewInput{Account: dr.Account, List: s.listInput(dr), Message: s.messageInput(dr), Row: row}
}

func (s *Server) previewStep(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.draftOf(w, r)
	if !ok {
		return
	}
	v, p := s.wizardView(r, dr, "preview")
	if !p.Open["preview"] {
		http.Redirect(w, r, stepURL(dr, "message"), http.StatusSeeOther)
		return
	}
	pp := &previewPage{Row: s.previewRow(r, p.List), First: 2}
	if p.List != nil && len(p.List.Sample) > 0 {
		pp.First = p.List.Sample[0].Number
	}
	allowMailFrame(w) // the HTML body is shown in a frame (previewHTML)
	res, err := s.svc.Preview(r.Context(), s.previewInput(dr, pp.Row))
	status := http.StatusOK
	if err != nil {
		pr := v.explain(err)
		var re *recipients.RowError
		var fe *core.FieldError
		switch t := v.templateText(err); {
		case t != "":
			pr.Message = v.T("preview.error.row", pp.Row, t)
		case errors.As(err, &re):
			// A row the delivery leaves out: its problem, as the list step says it.
			pr.Message = v.T("preview.error.row", pp.Row, v.ProblemText(problemOf(re)))
			pr.Fix = v.T("preview.fix.problem")
		case errors.As(err, &fe) && fe.Field == "row":
			pr.Message = v.T("preview.error.norow", pp.Row)
		}
		p.Problem = &pr
		status = http.StatusUnprocessableEntity
	}
	pp.Result = res
	p.Data = pp
	s.render(w, status, "wizard_preview", v)
}

// previewHTML serves one row's HTML body for the preview's frame: the
// sender's own markup, with the merged values escaped, shown in a frame
// that may run nothing and reach nothing.
func (s *Server) previewHTML(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.draftOf(w, r)
	if !ok {
		return
	}
	res, err := s.svc.Preview(r.Context(), s.previewInput(dr, s.previewRow(r, s.drafts.summary(dr))))
	if err != nil || res.Decoded.HTML == "" {
		http.NotFound(w, r)
		return
	}
	writeMailHTML(w, res.Decoded.HTML)
}

// previewEML downloads one row's message as an .eml file.
func (s *Server) previewEML(w http.ResponseWriter, r *http.Request) {
	dr, ok := s.draftOf(w, r)
	if !ok {
		return
	}
	row := s.previewRow(r, s.drafts.summary(dr))
	res, err := s.svc.Preview(r.Context(), s.previewInput(dr, row))
	if err != nil {
		s.fail(w, r, s.newView(r, "deliveries", nil), err)
		return
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="row-%d.eml"`, row))
	_, _ = w.Write(res.EML)
}
