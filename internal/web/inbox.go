package web

import "net/http"

// inboxRoutes: the sandbox's Inbox (issue 11, item 6).
func (s *Server) inboxRoutes(mux *http.ServeMux) {}
