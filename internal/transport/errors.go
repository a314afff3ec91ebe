package transport

import (
	"errors"
	"fmt"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

// Class sorts a failure by what the caller should do about it.
type Class int

const (
	// Temporary: 4xx replies and network trouble; retry later.
	Temporary Class = iota + 1
	// Permanent: 5xx replies; this message or recipient will not go through.
	Permanent
	// Auth: the server refused to let this account send (535, 530, 534,
	// 550 5.7.30...); no message will go through until it is fixed.
	Auth
)

func (c Class) String() string {
	switch c {
	case Temporary:
		return "temporary"
	case Permanent:
		return "permanent"
	case Auth:
		return "authentication"
	}
	return "unknown"
}

// Error is a failed SMTP exchange: a server reply or a network failure.
// Callers branch on Temporary() / AuthFailure() (see common contracts), and
// show Error() to the user: it ends with a sentence saying what to do.
type Error struct {
	Server    string // host:port
	Op        string // "connect", "TLS", "STARTTLS", "EHLO", "AUTH", "MAIL", "RCPT", "DATA"
	Recipient string // for RCPT failures
	Code      int    // SMTP reply code; 0 for network failures
	Enhanced  string // enhanced status code, e.g. "5.7.139"; "" when absent
	Text      string // the server's text after the codes
	// Challenge is the decoded JSON of an XOAUTH2 334 challenge (Gmail,
	// Dovecot) that came before the failing reply, e.g.
	// {"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}.
	Challenge string
	Class     Class
	Advice    string // what the user should do; "" when nothing specific is known
	// Reason names the Advice for a face that says it in its own words
	// (the console's catalogues): "smtp_auth_disabled", "ms_token_refused"…;
	// "" when there is no specific advice.
	Reason string
	Err    error // underlying network / TLS error, if any

	throttled bool
	// daily: the provider's daily sending limit for the account is spent
	// (Google 550 5.4.5, Microsoft SubmissionQuotaExceeded): every further
	// message would be refused too until the window resets.
	daily bool
	// uncertain: the connection failed after the message's content was
	// written and before the server's final reply.
	uncertain bool
	// notSent: the message was never handed over (a batch stopped first).
	notSent bool
	// settings: only a change of the account's or the tenant's settings
	// helps (5.7.139, a missing client certificate): a new token does not.
	settings bool
	// password: the refused AUTH gave a user name and password (PLAIN,
	// LOGIN), not a token: Microsoft answers both with 535 5.7.3.
	password bool
}

func (e *Error) Error() string {
	var sb strings.Builder
	if e.Server != "" {
		sb.WriteString(e.Server)
		sb.WriteString(": ")
	}
	if e.Op != "" {
		sb.WriteString(e.Op)
		if e.Recipient != "" {
			sb.WriteString(" <" + e.Recipient + ">")
		}
		sb.WriteString(": ")
	}
	if e.Code != 0 {
		sb.WriteString(e.ReplyLine())
	} else if e.Err != nil {
		sb.WriteString(e.Err.Error())
	} else {
		sb.WriteString(e.Text)
	}
	if e.Challenge != "" {
		sb.WriteString(" (challenge " + e.Challenge + ")")
	}
	if e.Advice != "" {
		sb.WriteString(". ")
		sb.WriteString(e.Advice)
	}
	return sb.String()
}

// ReplyLine is the server's reply as it was sent, e.g. "535 5.7.3 Authentication unsuccessful".
func (e *Error) ReplyLine() string {
	s := strconv.Itoa(e.Code)
	if e.Enhanced != "" {
		s += " " + e.Enhanced
	}
	if e.Text != "" {
		s += " " + e.Text
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports whether trying again later can succeed (4xx, network,
// and provider quotas that reset by themselves).
func (e *Error) Temporary() bool { return e.Class == Temporary }

// AuthFailure reports whether the server refused the account's credentials
// or its right to send; with XOAUTH2 one forced token refresh is worth a try.
func (e *Error) AuthFailure() bool { return e.Class == Auth }

// SettingsProblem reports an authentication-class refusal that only a
// change of settings fixes (SMTP AUTH disabled for the tenant, passwords
// refused, a client certificate missing): neither a refreshed token nor a
// new sign-in helps.
func (e *Error) SettingsProblem() bool { return e.settings }

// ExitCode makes every command exit alike on an SMTP refusal: 2 when the
// account's or the tenant's settings must change, 4 when the server refused
// the credentials (for OAuth a new sign-in is what helps), else 1.
func (e *Error) ExitCode() int {
	switch {
	case e.settings:
		return exitcode.Usage
	case e.Class == Auth:
		return exitcode.SignIn
	}
	return exitcode.Error
}

// Permanent reports whether this message or recipient will never go through as is.
func (e *Error) Permanent() bool { return e.Class == Permanent }

// Throttled reports whether the provider is limiting this account (rate or
// daily quota): pause the account, do not fail its recipients.
func (e *Error) Throttled() bool { return e.throttled }

// DailyLimit reports whether the account's daily sending window is spent:
// the delivery pauses rather than retrying each message (see RetryAfter).
func (e *Error) DailyLimit() bool { return e.daily }

// RetryAfter is how long to wait before sending again: for a daily limit
// the 24 hours after which both providers have let the window move on
// (SMTP replies do not say when); 0 otherwise.
func (e *Error) RetryAfter() time.Duration {
	if e.daily {
		return dailyWindow
	}
	return 0
}

// dailyWindow is the providers' daily sending window.
const dailyWindow = 24 * time.Hour

// Uncertain reports whether the connection failed after the message's
// content was written and before the server's final reply: the server may
// have taken it, so sending it again could deliver it twice.
func (e *Error) Uncertain() bool { return e.uncertain }

// NotSent reports whether the message was never handed to the server
// (SendBatch stopped before it after an earlier failure): it can be sent
// again at once on another connection.
func (e *Error) NotSent() bool { return e.notSent }

// IsTemporary, IsAuthFailure: helpers for callers holding a plain error.
func IsTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

func IsAuthFailure(err error) bool {
	var a interface{ AuthFailure() bool }
	return errors.As(err, &a) && a.AuthFailure()
}

// NewReplyError builds the classified error for a reply seen elsewhere (a
// test transcript, another client); challenge is a decoded 334 JSON or "".
func NewReplyError(server, op string, code int, enhanced, text, challenge string) *Error {
	e := &Error{Server: server, Op: op, Code: code, Enhanced: enhanced, Text: text, Challenge: challenge}
	classify(e)
	return e
}

// newNetError wraps a network or TLS failure (always temporary, except a
// certificate the client refuses, which will not fix itself).
func newNetError(server, op string, err error) *Error {
	e := &Error{Server: server, Op: op, Err: err, Class: Temporary}
	if isCertError(err) {
		e.Class, e.Reason = Permanent, "certificate"
		e.Advice = "The server's TLS certificate was not accepted: check the host name, or give the CA that signed it with the account's CA file setting"
	}
	return e
}

// ErrNoStartTLS: the account requires STARTTLS and the server did not offer
// it (or it failed); no credentials were sent.
var ErrNoStartTLS = errors.New("server does not offer STARTTLS")

func fmtEnhanced(c [3]int) string {
	if c == [3]int{} || c[0] < 0 {
		return ""
	}
	return fmt.Sprintf("%d.%d.%d", c[0], c[1], c[2])
}

// dataReplyError is the error for the final reply to a message whose
// content was written: the server's refusal, or, when the connection
// failed before the reply, Uncertain (the server may have the message).
func dataReplyError(addr string, err error) *Error {
	var se *smtp.SMTPError
	var pe *textproto.Error
	if errors.As(err, &pe) || errors.As(err, &se) {
		return replyError(addr, "DATA", err)
	}
	return uncertainError(addr, err)
}

// replyError turns a go-smtp or textproto reply error into *Error (a
// network failure into a temporary one).
func replyError(addr, op string, err error) *Error {
	var se *smtp.SMTPError
	var pe *textproto.Error
	if errors.As(err, &pe) {
		se = &smtp.SMTPError{Code: pe.Code, Message: pe.Msg}
	}
	if se != nil || errors.As(err, &se) {
		enh, text := enhancedOf(se)
		return NewReplyError(addr, op, se.Code, enh, text, "")
	}
	return newNetError(addr, op, err)
}

// enhancedOf returns the reply's enhanced code and text. go-smtp finds the
// code only when the first line starts with it; servers differ (go-smtp's
// own puts it on the last line only), so look at every line and drop the
// repeats.
func enhancedOf(se *smtp.SMTPError) (string, string) {
	enh := fmtEnhanced(se.EnhancedCode)
	lines := strings.Split(se.Message, "\n")
	for i, l := range lines {
		first, rest, _ := strings.Cut(l, " ")
		if isEnhanced(first) && (enh == "" || enh == first) {
			enh = first
			lines[i] = strings.TrimLeft(rest, " ")
		}
	}
	return enh, strings.Join(lines, " ")
}
