package mailapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// graph is Microsoft Graph's POST /v1.0/me/sendMail with the MIME message
// base64-encoded as a text/plain body; 202 Accepted means it was taken.
// Graph takes at most 4 MB per request: larger messages are refused before
// any request (and at preflight, through the account's size limit), since
// the draft-and-upload-session path rebuilds the message from Graph's own
// model and would not send the MIME the SMTP path builds.
type graph struct{}

const graphName = "Microsoft Graph sendMail"

func (graph) name() string { return graphName }

func (graph) request(ctx context.Context, base string, msg []byte) (*http.Request, error) {
	n := base64.StdEncoding.EncodedLen(len(msg))
	if n > provider.GraphMaxRequest {
		return nil, tooLarge(graphName, len(msg), provider.GraphMaxMIME,
			"Graph takes 4 MB per request and the message goes base64-encoded")
	}
	body := make([]byte, n)
	base64.StdEncoding.Encode(body, msg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1.0/me/sendMail", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/plain")
	return req, nil
}

func (graph) accepted(resp *http.Response, _ []byte) transport.Reply {
	text := "Accepted by Microsoft Graph"
	if id := resp.Header.Get("request-id"); id != "" {
		text += " (request-id " + oneLine(id) + ")"
	}
	return transport.Reply{Code: resp.StatusCode, Text: text}
}

// graphError is Graph's error reply.
type graphError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (graph) refusal(resp *http.Response, body []byte, wait time.Duration) *Error {
	var ge graphError
	json.Unmarshal(body, &ge)
	e := &Error{API: graphName, Status: resp.StatusCode, Code: oneLine(ge.Error.Code), Message: oneLine(ge.Error.Message), retryAfter: wait}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	classifyGraph(e)
	return e
}

// classifyGraph sets the class and the advice from Graph's status and code.
func classifyGraph(e *Error) {
	code, msg := strings.ToLower(e.Code), strings.ToLower(e.Message)
	switch {
	case strings.Contains(code, "submissionquota") || strings.Contains(code, "exceededmessagelimit") ||
		strings.Contains(msg, "submission quota"):
		// Exchange's 10,000 recipients a day, reached through Graph.
		e.Class, e.throttled, e.daily = transport.Temporary, true, true
		if e.retryAfter == 0 {
			e.retryAfter = 24 * time.Hour
		}
		e.Advice = "The mailbox reached Exchange Online's daily sending limit (10,000 recipients a day): the delivery pauses, " +
			"and the rest can go after the 24-hour window ('bluemoon deliveries resume'), or from another account"
	case e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable:
		e.Class, e.throttled = transport.Temporary, true
		e.Advice = "Microsoft Graph is throttling this mailbox (at most 4 requests at once and 10,000 per 10 minutes): " +
			"bluemoon waits as asked (Retry-After) and sends these later"
	case e.Status == http.StatusUnauthorized:
		e.Class = transport.Auth
		e.Advice = "Microsoft Graph refused the access token (expired, revoked, or not for Microsoft Graph's Mail.Send): " +
			"bluemoon refreshes it once; if that does not help, sign in again"
	case code == "mailboxnotenabledforrestapi" || code == "mailboxnotsupportedforrestapi":
		e.Class, e.settings = transport.Auth, true
		e.Advice = "Microsoft Graph cannot send for this mailbox: it is on-premises, inactive, soft-deleted or has no Exchange Online " +
			"licence. Use an Exchange Online mailbox, or send --via smtp (an administrator enables SMTP AUTH for it)"
	case code == "errorsendasdenied":
		e.Class, e.settings = transport.Auth, true
		e.Advice = "The signed-in user may not send as the account's From address: make From the signed-in mailbox, " +
			"or have an administrator grant Send As on it"
	case e.Status == http.StatusForbidden:
		e.Class, e.settings = transport.Auth, true
		e.Advice = "Microsoft Graph refused to send for this mailbox (" + orStatus(e.Code, e.Status) + "): the app needs the delegated " +
			"permission Mail.Send (Microsoft Graph) with admin consent, and no application access policy or Exchange role may " +
			"exclude the mailbox. An administrator must allow it; then resume the delivery"
	case e.Status == http.StatusRequestEntityTooLarge || code == "errormessagesizeexceeded":
		e.Class = transport.Permanent
		e.Advice = "The message is larger than Microsoft Graph accepts (4 MB per request): make the attachments smaller"
	case e.Status >= 500:
		// The request reached Microsoft and no verdict came back: the
		// message may have gone. Unknown, not retried by itself.
		e.Class, e.uncertain = transport.Temporary, true
		e.Advice = "Microsoft Graph failed after taking the request: the message may have been sent, so bluemoon records it " +
			"as unknown rather than sending it twice"
	default:
		// 400 and the like: this message (its recipients, its MIME) was refused.
		e.Class = transport.Permanent
		if code == "errorinvalidrecipients" {
			e.Advice = "Microsoft Graph refused the recipient address: check it"
		}
	}
}

func orStatus(code string, status int) string {
	if code != "" {
		return code
	}
	return "HTTP " + http.StatusText(status)
}
