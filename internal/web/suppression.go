package web

import "net/http"

// suppressionRoutes: the do-not-mail list (issue 11, item 5).
func (s *Server) suppressionRoutes(mux *http.ServeMux) {}
