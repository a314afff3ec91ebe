package apisrv

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"time"
)

// gmailMax is users.messages.send's upload limit.
const gmailMax = 35 << 20

// gmailScopes are the scopes that may send (https://mail.google.com/ is
// the guide's; gmail.send and the broader ones also do).
var gmailScopes = []string{"https://mail.google.com/", "https://www.googleapis.com/auth/gmail.send",
	"https://www.googleapis.com/auth/gmail.compose", "https://www.googleapis.com/auth/gmail.modify"}

func gmailError(status int, reason, domain, msg, state string) string {
	return fmt.Sprintf(`{"error":{"code":%d,"message":%q,"errors":[{"message":%q,"domain":%q,"reason":%q}],"status":%q}}`,
		status, msg, msg, domain, reason, state)
}

// gmailSend is POST /gmail/v1/users/me/messages/send with {"raw": base64url}.
func (s *Server) gmailSend(w http.ResponseWriter, r *http.Request) {
	s.gmail(w, r, false)
}

// gmailUpload is the media upload: the message itself, message/rfc822.
func (s *Server) gmailUpload(w http.ResponseWriter, r *http.Request) {
	if t := r.URL.Query().Get("uploadType"); t != "media" {
		s.requests.Add(1)
		s.writeJSON(w, 400, gmailError(400, "badRequest", "global",
			fmt.Sprintf("uploadType %q is not supported by the stand-in (use media)", t), "INVALID_ARGUMENT"))
		return
	}
	s.gmail(w, r, true)
}

func (s *Server) gmail(w http.ResponseWriter, r *http.Request, media bool) {
	k := s.requests.Add(1)
	user, scopes, err := s.bearer(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
		s.writeJSON(w, 401, gmailError(401, "authError", "global",
			"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
			"UNAUTHENTICATED"))
		return
	}
	ok := false
	for _, sc := range scopes {
		for _, want := range gmailScopes {
			ok = ok || sc == want
		}
	}
	if !ok {
		s.writeJSON(w, 403, gmailError(403, "insufficientPermissions", "global", "Request had insufficient authentication scopes.", "PERMISSION_DENIED"))
		return
	}
	body, tooLarge, err := readBody(r, gmailMax*4/3+64)
	if err != nil {
		return // the client went away before the request was complete: nothing taken
	}
	if tooLarge {
		s.writeJSON(w, 413, gmailError(413, "uploadTooLarge", "global", "Media upload too large.", "INVALID_ARGUMENT"))
		return
	}
	fault := s.injected(k)
	switch fault {
	case Throttle:
		w.Header().Set("Retry-After", s.retrySeconds())
		s.writeJSON(w, 429, gmailError(429, "rateLimitExceeded", "usageLimits", "Too many concurrent requests for user.", "RESOURCE_EXHAUSTED"))
		return
	case RateLimit403:
		s.writeJSON(w, 403, gmailError(403, "userRateLimitExceeded", "usageLimits", "User Rate Limit Exceeded", "PERMISSION_DENIED"))
		return
	case Unavailable:
		w.Header().Set("Retry-After", s.retrySeconds())
		s.writeJSON(w, 503, gmailError(503, "backendError", "global", "The service is currently unavailable.", "UNAVAILABLE"))
		return
	case Daily:
		at := time.Now().Add(s.opts.RetryAfter).UTC().Format("2006-01-02T15:04:05.000Z")
		s.writeJSON(w, 429, gmailError(429, "rateLimitExceeded", "usageLimits",
			"User-rate limit exceeded.  Retry after "+at+" (Mail sending)", "RESOURCE_EXHAUSTED"))
		return
	case AccessDenied:
		s.writeJSON(w, 403, gmailError(403, "domainPolicy", "global", "The domain administrators have disabled Gmail apps.", "PERMISSION_DENIED"))
		return
	case NotEnabled:
		s.writeJSON(w, 400, gmailError(400, "failedPrecondition", "global", "Precondition check failed.", "FAILED_PRECONDITION"))
		return
	case BadRequest:
		s.writeJSON(w, 400, gmailError(400, "invalidArgument", "global", "Invalid To header", "INVALID_ARGUMENT"))
		return
	}
	var data []byte
	upload := "raw"
	if media {
		upload = "media"
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "message/rfc822" {
			s.writeJSON(w, 400, gmailError(400, "badContent", "global", "Media type '"+ct+"' is not supported. Valid media types: [message/*]", "INVALID_ARGUMENT"))
			return
		}
		data = body
	} else {
		var req struct {
			Raw string `json:"raw"`
		}
		if json.Unmarshal(body, &req) != nil || req.Raw == "" {
			s.writeJSON(w, 400, gmailError(400, "invalidArgument", "global",
				"'raw' RFC822 payload message string or uploading message via /upload/* URL required", "INVALID_ARGUMENT"))
			return
		}
		data, err = base64.URLEncoding.DecodeString(req.Raw)
		if err != nil {
			data, err = base64.RawURLEncoding.DecodeString(req.Raw)
		}
		if err != nil {
			s.writeJSON(w, 400, gmailError(400, "invalidArgument", "global", "Invalid value for ByteString: "+req.Raw[:min(len(req.Raw), 16)], "INVALID_ARGUMENT"))
			return
		}
	}
	if len(data) > gmailMax {
		s.writeJSON(w, 413, gmailError(413, "uploadTooLarge", "global", "Media upload too large.", "INVALID_ARGUMENT"))
		return
	}
	to, err := recipients(data)
	if err != nil || len(to) == 0 {
		s.writeJSON(w, 400, gmailError(400, "invalidArgument", "global", "Recipient address required", "INVALID_ARGUMENT"))
		return
	}
	if bad := s.badRecipient(to); bad != "" {
		s.writeJSON(w, 400, gmailError(400, "invalidArgument", "global", "Invalid To header: "+bad, "INVALID_ARGUMENT"))
		return
	}
	if !s.deliver(user, to, data, upload) {
		w.Header().Set("Retry-After", s.retrySeconds())
		s.writeJSON(w, 503, gmailError(503, "backendError", "global", "The service is currently unavailable.", "UNAVAILABLE"))
		return
	}
	s.accept(user, to, data, upload)
	if fault == Internal {
		s.writeJSON(w, 500, gmailError(500, "backendError", "global", "Backend Error", "INTERNAL"))
		return
	}
	id := newID(8)
	s.writeJSON(w, 200, fmt.Sprintf(`{"id":%q,"threadId":%q,"labelIds":["SENT"]}`, id, id))
}
