package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

// A delivery's recipients: every row with its outcome and the server's
// reply, filtered by outcome, searched by address, a page at a time (the
// next page by a keyset cursor, as cheap at row 90,000 as at row 1); the
// whole report as CSV or JSON.

func (s *Server) reportRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /deliveries/{id}/recipients", s.reportPage)
	mux.HandleFunc("GET /deliveries/{id}/report.csv", s.reportDownload)
	mux.HandleFunc("GET /deliveries/{id}/report.json", s.reportDownload)
}

// reportPageSize is how many recipients a page shows.
const reportPageSize = 100

// reportStates are the outcome filters offered, in the order shown.
var reportStates = []string{"sent", "failed", "deferred", "unknown", "pending", "skipped", "suppressed", "cancelled"}

type reportView struct {
	D      *delivery.Summary
	Page   *delivery.ReportPage
	State  string // the filter ("" all)
	Search string
	After  int64
	Offset int     // rows before this page
	Prev   []int64 // cursors of the pages before, for "previous"
	States []stateCount
	Millis int64 // how long the page's query took
}

type stateCount struct {
	State string
	Count int
}

func (s *Server) reportPage(w http.ResponseWriter, r *http.Request) {
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
	q := r.URL.Query()
	rv := &reportView{D: d, State: q.Get("state"), Search: strings.TrimSpace(q.Get("q"))}
	if !slices.Contains(reportStates, rv.State) {
		rv.State = "" // an outcome not offered (an edited address): every row, as the download does
	}
	rv.After, _ = strconv.ParseInt(q.Get("after"), 10, 64)
	rv.Offset, _ = strconv.Atoi(q.Get("offset"))
	for _, p := range strings.Split(q.Get("prev"), ".") {
		if n, err := strconv.ParseInt(p, 10, 64); err == nil {
			rv.Prev = append(rv.Prev, n)
		}
	}
	query := delivery.ReportQuery{Search: rv.Search, After: rv.After, Limit: reportPageSize}
	if rv.State != "" {
		query.States = []string{rv.State}
	}
	start := time.Now()
	rv.Page, err = s.svc.ReportPage(r.Context(), id, query)
	rv.Millis = time.Since(start).Milliseconds()
	if err != nil {
		s.fail(w, r, v, err)
		return
	}
	c := d.Counts
	for _, st := range reportStates {
		n := map[string]int{"sent": c.Sent, "failed": c.Failed, "deferred": c.Deferred, "unknown": c.Unknown,
			"pending": c.Pending + c.Sending, "skipped": c.Skipped, "suppressed": c.Suppressed, "cancelled": c.Cancelled}[st]
		if n > 0 || st == rv.State {
			rv.States = append(rv.States, stateCount{State: st, Count: n})
		}
	}
	v.Title = v.T("report.title", d.ID, d.Name)
	v.Data = rv
	s.render(w, http.StatusOK, "report", v)
}

// NextURL is the address of the page after this one.
func (rv *reportView) NextURL() string {
	q := rv.base()
	q.Set("after", strconv.FormatInt(rv.Page.Next, 10))
	q.Set("offset", strconv.Itoa(rv.Offset+len(rv.Page.Rows)))
	q.Set("prev", joinCursors(append(append([]int64{}, rv.Prev...), rv.After)))
	return "?" + q.Encode()
}

// PrevURL is the address of the page before this one ("" on the first).
func (rv *reportView) PrevURL() string {
	if rv.Offset == 0 || len(rv.Prev) == 0 {
		return ""
	}
	q := rv.base()
	last := rv.Prev[len(rv.Prev)-1]
	if last > 0 {
		q.Set("after", strconv.FormatInt(last, 10))
	}
	if off := rv.Offset - reportPageSize; off > 0 {
		q.Set("offset", strconv.Itoa(off))
	}
	if len(rv.Prev) > 1 {
		q.Set("prev", joinCursors(rv.Prev[:len(rv.Prev)-1]))
	}
	return "?" + q.Encode()
}

// FilterURL is the address of the first page with state as the filter.
func (rv *reportView) FilterURL(state string) string {
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if rv.Search != "" {
		q.Set("q", rv.Search)
	}
	return "?" + q.Encode()
}

func (rv *reportView) base() url.Values {
	q := url.Values{}
	if rv.State != "" {
		q.Set("state", rv.State)
	}
	if rv.Search != "" {
		q.Set("q", rv.Search)
	}
	return q
}

func joinCursors(cs []int64) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = strconv.FormatInt(c, 10)
	}
	return strings.Join(parts, ".")
}

// From and To are the row positions shown ("101–200").
func (rv *reportView) From() int { return rv.Offset + 1 }
func (rv *reportView) To() int   { return rv.Offset + len(rv.Page.Rows) }

// reportDownload sends the whole report, streamed as it is read.
func (s *Server) reportDownload(w http.ResponseWriter, r *http.Request) {
	id, ok := deliveryID(r)
	if !ok {
		s.renderStatus(w, r, http.StatusNotFound, "notfound", nil)
		return
	}
	if _, err := s.svc.Delivery(r.Context(), id); err != nil {
		s.fail(w, r, s.newView(r, "deliveries", nil), err)
		return
	}
	csv := strings.HasSuffix(r.URL.Path, ".csv")
	name := fmt.Sprintf("delivery-%d-report", id)
	var err error
	if csv {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
		// A byte-order mark, so Excel reads the Japanese in it as UTF-8.
		_, _ = w.Write([]byte("\ufeff"))
		err = s.svc.ReportCSV(r.Context(), id, w)
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
		err = s.svc.ReportJSON(r.Context(), id, w)
	}
	if err != nil {
		// The header is gone: all that is left is to say so in the log.
		s.logf("console: report of delivery %d: %v", id, err)
	}
}
