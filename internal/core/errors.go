package core

import (
	"errors"
	"fmt"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
)

// Every error core returns keeps the exit code the CLI has always given
// it (exitcode.For): a face branches on the types below, the CLI exits
// with their code. Their English text is the CLI's, naming flags; a form
// shows its own words for FieldError.Code and points at FieldError.Field.

// FieldError is bad input that one field of a form (one flag of the CLI)
// can fix. Exit code 2.
type FieldError struct {
	// Field is the input's stable name: "from", "smtp_host", "smtp_port",
	// "security", "auth", "credentials", "password", "client_cert",
	// "client_key", "ca_file", "per_minute"…, "provider", "tenant",
	// "client_id", "client_secret", "auth_endpoint"…, "passphrase",
	// "trust", "name", "to", "charset", "subject", "text", "html",
	// "attach", "recipients", "delimiter", "sheet", "row", "cron", "at",
	// "tz", "missed", "run", "notify_email", "notify_account",
	// "send_args", "delivery", "daily_wait", "grace", "poll".
	Field string
	// Code says what is wrong, for a message catalogue: "required",
	// "invalid", "exists", "not_found", "not_used", "unreadable", "in_use",
	// "custom_endpoints", "passphrase_required", "wrong_passphrase",
	// "untrusted", "damaged", "newer_version", "not_credential_file",
	// "too_large", "past", "ambiguous", "no_recipients".
	Code    string
	Message string // English, as the CLI prints it
	Err     error  // what it wraps, if anything
}

func (e *FieldError) Error() string { return e.Message }
func (e *FieldError) Unwrap() error { return e.Err }
func (e *FieldError) ExitCode() int { return exitcode.Usage }

// Is makes a field that names something missing match ErrNotFound.
func (e *FieldError) Is(target error) bool { return target == ErrNotFound && e.Code == CodeNotFound }

// Codes of FieldError used in more than one place.
const (
	CodeRequired = "required"
	CodeInvalid  = "invalid"
	CodeExists   = "exists"
	CodeNotFound = "not_found"
	CodeNotUsed  = "not_used"
	// CodeAmbiguous: a name several things share (deliveries): give the ID.
	CodeAmbiguous = "ambiguous"
	// CodeNoRecipients: the recipient list has a header row and no data
	// rows (Field "recipients"); a delivery of it is refused.
	CodeNoRecipients = "no_recipients"
)

// fieldErr builds a FieldError whose message is the formatted text; a %w
// in format becomes its Err.
func fieldErr(field, code, format string, args ...any) *FieldError {
	err := fmt.Errorf(format, args...)
	return &FieldError{Field: field, Code: code, Message: err.Error(), Err: errors.Unwrap(err)}
}

// ErrNotFound is matched (errors.Is) by every error for something named
// that does not exist: a *NotFoundError, or a *FieldError with code
// "not_found".
var ErrNotFound = errors.New("not found")

// Kinds of things NotFoundError and BusyError name.
const (
	KindAccount       = "account"
	KindCredentials   = "credentials"
	KindDelivery      = "delivery"
	KindSavedDelivery = "saved_delivery"
	KindSchedule      = "schedule"
	KindSignIn        = "sign_in"
	KindServe         = "serve"
)

// NotFoundError: the account, credentials, delivery, saved delivery or
// schedule the call is about does not exist. Exit code 2.
type NotFoundError struct {
	Kind string // KindAccount, KindCredentials, KindDelivery, KindSavedDelivery, KindSchedule
	Name string // the name or ID asked for
	Err  error  // the store's error, whose words Error gives
}

func (e *NotFoundError) Error() string        { return e.Err.Error() }
func (e *NotFoundError) Unwrap() error        { return e.Err }
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }
func (e *NotFoundError) ExitCode() int        { return exitcode.Usage }

// BusyError: what was asked is already being done elsewhere. Its exit code
// is the CLI's: 5 for an account sending another delivery (the delivery is
// left ready, like a pause), 2 for a delivery running in another process,
// a second sign-in of one account, or a second scheduler on one home.
type BusyError struct {
	Kind       string // KindAccount, KindDelivery, KindSignIn, KindServe
	Name       string // the account (KindAccount, KindSignIn) or the home (KindServe)
	DeliveryID int64  // the delivery concerned (KindAccount: the one left ready)
	Message    string
}

func (e *BusyError) Error() string { return e.Message }
func (e *BusyError) ExitCode() int {
	if e.Kind == KindAccount {
		return exitcode.Paused
	}
	return exitcode.Usage
}

// SignInCheckError: the account could not sign in to its SMTP server
// before a delivery started (the preflight's last check). Nothing was
// sent, nothing was kept. Exit code: 4 when a new sign-in helps, 2 when a
// setting must change (535 5.7.139), else 1.
type SignInCheckError struct {
	Account string
	Server  string // host:port, or the API ("Microsoft Graph")
	Err     error
}

func (e *SignInCheckError) Error() string {
	return fmt.Sprintf("account %s cannot sign in: %v", e.Account, e.Err)
}
func (e *SignInCheckError) Unwrap() error { return e.Err }
func (e *SignInCheckError) ExitCode() int { return exitcode.For(e.Err) }

// OutcomeError: a delivery ran and stopped short of every recipient
// having the message: some failed or are unknown (exit 3), it paused or
// was cancelled (5), or a sign-in is needed (4). The outcome says which.
type OutcomeError struct {
	Outcome *delivery.Outcome
	// Scheduler: the run was the scheduler's own job and left the
	// delivery paused for the scheduler to go on with by itself
	// (SendResult.SchedulerResume, the same value); nil otherwise.
	Scheduler *SchedulerResume
}

func (e *OutcomeError) Error() string {
	o := e.Outcome
	msg := fmt.Sprintf("delivery %d %s", o.ID, o.Status)
	if o.Reason != "" {
		msg += ": " + o.Reason
	}
	if c := o.Counts; o.Status == delivery.StatusDone {
		msg += fmt.Sprintf(" (%d failed, %d unknown)", c.Failed, c.Unknown)
	}
	return msg
}
func (e *OutcomeError) ExitCode() int { return e.Outcome.ExitCode() }

// Errors of a sign-in, matched with errors.Is / errors.As.
var (
	ErrSignInTimeout   = oauth.ErrTimeout   // nobody finished the sign-in in time
	ErrSignInCancelled = oauth.ErrCancelled // SignIn.Cancel, Close, or the caller's context
)

type (
	// ReauthError: a person must sign in again (no tokens yet, refresh
	// token expired or revoked). Exit code 4. It passes through core
	// untouched; StartSignIn is the cure.
	ReauthError = oauth.ReauthError
	// AccessDeniedError: the person (or a policy) refused consent.
	AccessDeniedError = oauth.AccessDeniedError
)

// needsSignIn reports whether err means a person must sign in again.
func needsSignIn(err error) bool {
	var n interface{ NeedsSignIn() bool }
	return errors.As(err, &n) && n.NeedsSignIn()
}
