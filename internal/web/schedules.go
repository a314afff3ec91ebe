package web

import "net/http"

// scheduleRoutes: the schedules, keep-alive and alert screens (issue 11, item 4).
func (s *Server) scheduleRoutes(mux *http.ServeMux) {}
