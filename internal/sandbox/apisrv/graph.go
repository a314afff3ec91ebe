package apisrv

import (
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// GraphScope is the permission sendMail needs, as Microsoft names it.
const GraphScope = "https://graph.microsoft.com/Mail.Send"

// graphMaxRequest is Graph's request size limit.
const graphMaxRequest = 4_000_000

func graphError(code, msg string) string {
	return fmt.Sprintf(`{"error":{"code":%q,"message":%q,"innerError":{"date":"2026-01-01T00:00:00","request-id":%q,"client-request-id":%q}}}`,
		code, msg, newID(8), newID(8))
}

// graphSend is POST /v1.0/me/sendMail with a base64 MIME body.
func (s *Server) graphSend(w http.ResponseWriter, r *http.Request) {
	k := s.requests.Add(1)
	w.Header().Set("request-id", newID(8))
	user, scopes, err := s.bearer(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize"`)
		s.writeJSON(w, 401, graphError("InvalidAuthenticationToken", "Access token has expired or is not yet valid."))
		return
	}
	// A token is for one resource: an SMTP.Send token (outlook.office.com)
	// is refused for its audience; a Graph token without Mail.Send is
	// denied.
	graphToken, mailSend := false, false
	for _, sc := range scopes {
		if strings.HasPrefix(strings.ToLower(sc), "https://graph.microsoft.com/") || !strings.Contains(sc, "/") {
			graphToken = true
		}
		if strings.EqualFold(sc, GraphScope) || strings.EqualFold(sc, "Mail.Send") {
			mailSend = true
		}
	}
	if !graphToken {
		s.writeJSON(w, 401, graphError("InvalidAuthenticationToken", "Access token validation failure. Invalid audience."))
		return
	}
	if !mailSend {
		s.writeJSON(w, 403, graphError("ErrorAccessDenied", "Access is denied. Check credentials and try again."))
		return
	}
	if !s.enter(user) {
		w.Header().Set("Retry-After", s.retrySeconds())
		s.writeJSON(w, 429, graphError("ApplicationThrottled", "Application is over its MailboxConcurrency limit."))
		return
	}
	status, body := s.graphTake(w, r, k, user)
	// The request ends for the mailbox's count before the reply goes out,
	// so a client that sends its next request on reading the reply is
	// not counted twice.
	s.leave(user)
	if status == http.StatusAccepted {
		w.WriteHeader(status)
	} else if status != 0 {
		s.writeJSON(w, status, body)
	}
}

// graphTake reads and checks the request and takes the message; it
// returns the reply (status 0: none, the client went away).
func (s *Server) graphTake(w http.ResponseWriter, r *http.Request, k int64, user string) (int, string) {
	body, tooLarge, err := readBody(r, graphMaxRequest)
	if err != nil {
		return 0, "" // the client went away before the request was complete: nothing taken
	}
	if tooLarge {
		return 413, graphError("RequestBodyTooLarge", "The maximum request length supported is 4MB.")
	}
	fault := s.injected(k)
	switch fault {
	case Throttle, RateLimit403:
		w.Header().Set("Retry-After", s.retrySeconds())
		return 429, graphError("TooManyRequests", "Too many requests.")
	case Unavailable:
		w.Header().Set("Retry-After", s.retrySeconds())
		return 503, graphError("ServiceUnavailable", "Service Unavailable")
	case Daily:
		return 429, graphError("ErrorSubmissionQuotaExceeded",
			"Cannot send mail: the mailbox exceeded its submission quota (recipient rate limit).")
	case AccessDenied:
		return 403, graphError("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
	case NotEnabled:
		return 404, graphError("MailboxNotEnabledForRESTAPI", "The mailbox is either inactive, soft-deleted, or is hosted on-premise.")
	case BadRequest:
		return 400, graphError("ErrorInvalidRecipients", "At least one recipient isn't valid.")
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "text/plain" {
		return 400, graphError("RequestBodyRead", "A MIME message goes as base64 with Content-Type text/plain (the stand-in takes no JSON message).")
	}
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(body)))
	if err != nil {
		return 400, graphError("ErrorMimeContentInvalidBase64String", "Invalid base64 string for MIME content.")
	}
	to, err := recipients(data)
	if err != nil || len(to) == 0 {
		return 400, graphError("ErrorInvalidRecipients", "At least one recipient isn't valid.")
	}
	if bad := s.badRecipient(to); bad != "" {
		return 400, graphError("ErrorInvalidRecipients", "At least one recipient isn't valid: "+bad)
	}
	if !s.deliver(user, to, data, "mime") {
		w.Header().Set("Retry-After", s.retrySeconds())
		return 503, graphError("ServiceUnavailable", "Service Unavailable")
	}
	s.accept(user, to, data, "mime")
	if fault == Internal {
		return 500, graphError("generalException", "An internal server error occurred.")
	}
	return http.StatusAccepted, ""
}
