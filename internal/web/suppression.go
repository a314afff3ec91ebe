package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// 送信停止リスト: the addresses never mailed, with why and since when. A
// page at a time (the core pages by address, so the list's 100,000th
// entry costs what its first does), searched by address; one added or
// removed by hand; a list file added at once; the whole list downloaded.
// An import reads its file the way the delivery wizard's list step does
// (readList): the same upload folder, the same choice of sheet and
// address column, the same bad-row words.

func (s *Server) suppressionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /suppression", s.suppressionPage)
	mux.HandleFunc("POST /suppression/add", s.suppressionAdd)
	mux.HandleFunc("POST /suppression/remove", s.suppressionRemove)
	mux.HandleFunc("GET /suppression/export.csv", s.suppressionExport)
	mux.HandleFunc("POST /suppression/import", s.suppressUpload)
	mux.HandleFunc("GET /suppression/import/{draft}", s.suppressImportReview)
	mux.HandleFunc("POST /suppression/import/{draft}/options", s.suppressImportOptions)
	mux.HandleFunc("POST /suppression/import/{draft}", s.suppressImportRun)
	mux.HandleFunc("GET /suppression/import/{draft}/result", s.suppressImportResultPage)
	mux.HandleFunc("POST /suppression/import/{draft}/cancel", s.suppressImportCancel)
}

// suppressPageSize is how many addresses a page shows.
const suppressPageSize = 100

// suppressionView is the list page.
type suppressionView struct {
	Count  int // on the whole list
	Page   *core.SuppressionPage
	Search string
	Millis int64 // how long the page's query took
	// The add form, as typed (shown again beside its error).
	Address, Reason string
	Problem         *problem // a failed upload
}

func (s *Server) suppressionPage(w http.ResponseWriter, r *http.Request) {
	v := s.newView(r, "suppression", nil)
	q := r.URL.Query()
	for _, k := range []string{"added", "already", "removed", "missing"} {
		if a := q.Get(k); a != "" {
			kind := "ok"
			if k == "already" || k == "missing" {
				kind = "warn"
			}
			v.Flash = append(v.Flash, flash{Kind: kind, Text: v.T("suppress.flash."+k, a)})
		}
	}
	if q.Get("cancelled") != "" {
		v.Flash = append(v.Flash, flash{Kind: "ok", Text: v.T("suppress.flash.cancelled")})
	}
	s.renderSuppression(w, r, v, http.StatusOK, &suppressionView{})
}

func (s *Server) renderSuppression(w http.ResponseWriter, r *http.Request, v *view, status int, sv *suppressionView) {
	q := r.URL.Query()
	sv.Search = strings.TrimSpace(q.Get("q"))
	var err error
	if sv.Count, err = s.svc.SuppressionCount(r.Context()); err != nil {
		s.fail(w, r, v, err)
		return
	}
	start := time.Now()
	sv.Page, err = s.svc.SuppressionPage(r.Context(), core.SuppressionQuery{
		Search: sv.Search, After: q.Get("after"), Before: q.Get("before"), Limit: suppressPageSize})
	sv.Millis = time.Since(start).Milliseconds()
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	v.Title = v.T("suppress.title")
	v.Data = sv
	s.render(w, status, "suppression", v)
}

// NextURL and PrevURL are the pages after and before this one ("" when
// there is none), keeping the search.
func (sv *suppressionView) NextURL() string { return sv.pageURL("after", sv.Page.Next) }
func (sv *suppressionView) PrevURL() string { return sv.pageURL("before", sv.Page.Prev) }

func (sv *suppressionView) pageURL(dir, cursor string) string {
	if cursor == "" {
		return ""
	}
	q := url.Values{dir: {cursor}}
	if sv.Search != "" {
		q.Set("q", sv.Search)
	}
	return "/suppression?" + q.Encode()
}

// From and To are the positions shown ("101–200").
func (sv *suppressionView) From() int { return sv.Page.Offset + 1 }
func (sv *suppressionView) To() int   { return sv.Page.Offset + len(sv.Page.Entries) }

// suppressionAdd adds one address; a malformed one is said beside the
// field, in the page's language, with what was typed kept.
func (s *Server) suppressionAdd(w http.ResponseWriter, r *http.Request) {
	addr, reason := strings.TrimSpace(r.FormValue("address")), strings.TrimSpace(r.FormValue("reason"))
	added, err := s.svc.Suppress(r.Context(), addr, reason)
	if err != nil {
		v := s.newView(r, "suppression", nil)
		var fe *core.FieldError
		if !errors.As(err, &fe) {
			s.fail(w, r, v, err)
			return
		}
		v.Errors["address"] = v.addressProblem(addr, err)
		s.renderSuppression(w, r, v, http.StatusUnprocessableEntity, &suppressionView{Address: addr, Reason: reason})
		return
	}
	key := "added"
	if !added {
		key = "already"
	}
	http.Redirect(w, r, "/suppression?"+url.Values{key: {addr}}.Encode(), http.StatusSeeOther)
}

// addressProblem words why addr is not an address, naming the field.
func (v *view) addressProblem(addr string, err error) string {
	p := listProblem{Code: "invalid", Value: addr, Text: err.Error()}
	var ae *recipients.AddressError
	if errors.As(err, &ae) {
		p.Code = "address." + ae.Code
	}
	if addr == "" {
		p.Code = "address.empty"
	}
	return v.T("suppress.error.address", v.ProblemText(p))
}

func (s *Server) suppressionRemove(w http.ResponseWriter, r *http.Request) {
	addr := strings.TrimSpace(r.FormValue("address"))
	removed, err := s.svc.Unsuppress(r.Context(), addr)
	if err != nil {
		s.fail(w, r, s.newView(r, "suppression", nil), err)
		return
	}
	key := "removed"
	if !removed {
		key = "missing"
	}
	q := url.Values{key: {addr}}
	if sq := strings.TrimSpace(r.FormValue("q")); sq != "" {
		q.Set("q", sq)
	}
	http.Redirect(w, r, "/suppression?"+q.Encode(), http.StatusSeeOther)
}

// suppressionExport sends the whole list as CSV, streamed as it is read.
func (s *Server) suppressionExport(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="suppression-`+time.Now().Format("20060102")+`.csv"`)
	// A byte-order mark, so Excel reads the Japanese in it as UTF-8.
	_, _ = w.Write([]byte("\ufeff"))
	if err := s.svc.SuppressionsCSV(r.Context(), w); err != nil {
		// The header is gone: all that is left is to say so in the log.
		s.logf("console: suppression export: %v", err)
	}
}
