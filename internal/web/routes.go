package web

import (
	"net/http"
)

// routes maps the console's addresses to handlers. Pages are GET; every
// change is a POST that the guard has checked (Origin + CSRF).
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(staticFS())))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/accounts", http.StatusSeeOther)
	})
	s.accountRoutes(mux)
	s.oauthRoutes(mux)
	s.signInRoutes(mux)
	s.credfileRoutes(mux)
	s.testSendRoutes(mux)
	s.deliveryRoutes(mux)
	s.savedRoutes(mux)
	s.scheduleRoutes(mux)

	s.suppressionRoutes(mux)

	s.inboxRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.renderStatus(w, r, http.StatusNotFound, "notfound", nil)
	})
	return s.guard(mux)
}
