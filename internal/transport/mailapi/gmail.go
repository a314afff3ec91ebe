package mailapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// gmail is the Gmail API's users.messages.send: the MIME message as
// {"raw": base64url} up to RawMax, above it as a media upload
// (uploadType=media, message/rfc822, no encoding) up to the API's 35 MB.
type gmail struct{}

const gmailName = "Gmail API users.messages.send"

// RawMax is the largest message sent as {"raw": …}; larger ones use the
// media upload, which the API documents for large messages and which
// spares the encoding (a third more bytes, and CPU).
const RawMax = 1 << 20

func (gmail) name() string { return gmailName }

func (gmail) request(ctx context.Context, base string, msg []byte) (*http.Request, error) {
	if len(msg) > provider.GmailAPIMaxBytes {
		return nil, tooLarge(gmailName, len(msg), provider.GmailAPIMaxBytes, "the Gmail API's limit")
	}
	if len(msg) > RawMax {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost,
			base+"/upload/gmail/v1/users/me/messages/send?uploadType=media", bytes.NewReader(msg))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "message/rfc822")
		return req, nil
	}
	const head, tail = `{"raw":"`, `"}`
	n := base64.URLEncoding.EncodedLen(len(msg))
	body := make([]byte, len(head)+n+len(tail))
	copy(body, head)
	base64.URLEncoding.Encode(body[len(head):], msg)
	copy(body[len(head)+n:], tail)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/gmail/v1/users/me/messages/send", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

func (gmail) accepted(resp *http.Response, body []byte) transport.Reply {
	var m struct {
		ID string `json:"id"`
	}
	json.Unmarshal(body, &m)
	text := "OK, sent by the Gmail API"
	if m.ID != "" {
		text += " (id " + oneLine(m.ID) + ")"
	}
	return transport.Reply{Code: resp.StatusCode, Text: text}
}

// gmailError is Google's error reply.
type gmailError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
		Errors  []struct {
			Reason  string `json:"reason"`
			Domain  string `json:"domain"`
			Message string `json:"message"`
		} `json:"errors"`
	} `json:"error"`
}

func (gmail) refusal(resp *http.Response, body []byte, wait time.Duration) *Error {
	var ge gmailError
	json.Unmarshal(body, &ge)
	e := &Error{API: gmailName, Status: resp.StatusCode, Message: oneLine(ge.Error.Message), retryAfter: wait}
	if len(ge.Error.Errors) > 0 {
		e.Code = oneLine(ge.Error.Errors[0].Reason)
	}
	if e.Code == "" {
		e.Code = oneLine(ge.Error.Status)
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	classifyGmail(e, time.Now())
	return e
}

// retryAfterRE finds the time in Gmail's "User-rate limit exceeded.  Retry
// after 2026-01-29T14:13:45.123Z (Mail sending)".
var retryAfterRE = regexp.MustCompile(`(?i)retry after (\d{4}-\d\d-\d\dT[0-9:.]+Z)`)

// classifyGmail sets the class and the advice from Google's status and reason.
func classifyGmail(e *Error, now time.Time) {
	reason, msg := strings.ToLower(e.Code), strings.ToLower(e.Message)
	if m := retryAfterRE.FindStringSubmatch(e.Message); m != nil {
		if t, err := time.Parse(time.RFC3339Nano, m[1]); err == nil && t.After(now) {
			e.retryAfter = min(t.Sub(now), 24*time.Hour)
		}
	}
	switch {
	case reason == "dailylimitexceeded" || strings.Contains(msg, "(mail sending)") ||
		strings.Contains(msg, "sending limit"):
		// The user's daily sending limit (2,000 a day for Workspace, 500
		// on trial) or the project's daily quota: nothing more goes today.
		e.Class, e.throttled, e.daily = transport.Temporary, true, true
		if e.retryAfter == 0 {
			e.retryAfter = 24 * time.Hour
		}
		e.Advice = "The account reached Google's daily sending limit (2,000 messages a day for Workspace users, 500 on trial " +
			"accounts) or the project's daily API quota: the delivery pauses, and the rest can go when the limit resets " +
			"('bluemoon deliveries resume')"
	case e.Status == http.StatusTooManyRequests || reason == "ratelimitexceeded" || reason == "userratelimitexceeded" ||
		e.Status == http.StatusServiceUnavailable:
		e.Class, e.throttled = transport.Temporary, true
		e.Advice = "The Gmail API is rate-limiting this account (a new project allows about 60 sends a minute per user): " +
			"bluemoon backs off and sends these later"
	case e.Status == http.StatusUnauthorized:
		e.Class = transport.Auth
		e.Advice = "Google refused the access token (expired or revoked): bluemoon refreshes it once; if that does not help, sign in again"
	case reason == "insufficientpermissions" || reason == "access_token_scope_insufficient" ||
		strings.Contains(msg, "insufficient authentication scopes"):
		e.Class, e.settings = transport.Auth, true
		e.Advice = "The sign-in's token lacks the scope users.messages.send needs (https://mail.google.com/ or " +
			"https://www.googleapis.com/auth/gmail.send): put it in the credential file's auth_scope and token_scope, then sign in again"
	case reason == "accessnotconfigured" || reason == "service_disabled" || strings.Contains(msg, "has not been used in project"):
		e.Class, e.settings = transport.Auth, true
		e.Advice = "The Gmail API is not enabled in the Google Cloud project of the OAuth client: an administrator must enable it " +
			"(APIs & Services > Library > Gmail API), then resume the delivery"
	case e.Status == http.StatusForbidden || reason == "failedprecondition" || strings.Contains(msg, "precondition check failed"):
		e.Class, e.settings = transport.Auth, true
		e.Advice = "Google refused to send for this account (" + orStatus(e.Code, e.Status) + "): Gmail may be off for the user, or " +
			"the domain's administrator does not allow this app. An administrator must allow it; then resume the delivery"
	case e.Status == http.StatusRequestEntityTooLarge:
		e.Class = transport.Permanent
		e.Advice = "The message is larger than the Gmail API accepts (35 MB): make the attachments smaller"
	case e.Status >= 500:
		e.Class, e.uncertain = transport.Temporary, true
		e.Advice = "The Gmail API failed after taking the request: the message may have been sent, so bluemoon records it " +
			"as unknown rather than sending it twice"
	default:
		// 400 invalidArgument and the like: this message was refused.
		e.Class = transport.Permanent
		if strings.Contains(msg, "recipient") || strings.Contains(msg, "to header") {
			e.Advice = "Google refused the recipient address: check it"
		}
	}
}
