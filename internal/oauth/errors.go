package oauth

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

// ProviderError is an OAuth error reply of the authorization server, in
// RFC 6749 form ({"error","error_description"}) plus Microsoft's AADSTS
// number. Only the server's words are kept, never the request.
type ProviderError struct {
	Endpoint    string // "token endpoint", "device endpoint", ...
	Status      int
	Code        string // error, e.g. "invalid_grant"
	Description string // error_description, trimmed of trace and correlation IDs
	AADSTS      int    // Microsoft's error code, 0 when there is none
}

func (e *ProviderError) Error() string {
	msg := fmt.Sprintf("%s refused the request (HTTP %d): %s", e.Endpoint, e.Status, e.Code)
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

var (
	aadRE   = regexp.MustCompile(`AADSTS(\d+)`)
	traceRE = regexp.MustCompile(`\s*(Trace ID|Correlation ID|Timestamp):.*$`)
)

func newProviderError(endpoint string, status int, code, desc string, codes []int) *ProviderError {
	e := &ProviderError{Endpoint: endpoint, Status: status, Code: code}
	e.Description = strings.TrimSpace(traceRE.ReplaceAllString(desc, ""))
	if len(codes) > 0 {
		e.AADSTS = codes[0]
	} else if m := aadRE.FindStringSubmatch(desc); m != nil {
		e.AADSTS, _ = strconv.Atoi(m[1])
	}
	return e
}

// Reason says why a sign-in is needed, for scripts (auth status --json).
type Reason string

const (
	ReasonNoTokens  Reason = "no-tokens"
	ReasonExpired   Reason = "expired"
	ReasonRevoked   Reason = "revoked"
	ReasonMFA       Reason = "mfa"
	ReasonPolicy    Reason = "policy"
	ReasonConsent   Reason = "consent"
	ReasonReused    Reason = "reused"
	ReasonRefused   Reason = "refused"
	ReasonNoRefresh Reason = "no-refresh-token"
)

// ReauthError means a person must sign in again; nothing can be retried
// until they do. Commands exit with code 4 on it.
type ReauthError struct {
	Account string
	Reason  Reason
	Why     string // a sentence the user can act on
	Err     error  // the provider's reply, if any
}

func (e *ReauthError) Error() string {
	return fmt.Sprintf("account %s needs a new sign-in: %s Run 'bluemoon login %s'.", e.Account, e.Why, e.Account)
}
func (e *ReauthError) Unwrap() error     { return e.Err }
func (e *ReauthError) NeedsSignIn() bool { return true }
func (e *ReauthError) ExitCode() int     { return exitcode.SignIn }

// ConfigError is a refusal that a new sign-in cannot cure: the app
// registration or the credential file must change. Exit code 2.
type ConfigError struct {
	Why string
	Err error
}

func (e *ConfigError) Error() string { return e.Why }
func (e *ConfigError) Unwrap() error { return e.Err }
func (e *ConfigError) ExitCode() int { return exitcode.Usage }

const googleTestingHint = "Google refused the refresh token: it has expired or was revoked (\"Token has been expired or revoked\"). " +
	"That happens after a password change, when the user removes the app's access, after 6 months unused, " +
	"and after only 7 days when the app's OAuth consent screen is still in \"Testing\" with external users " +
	"(an administrator can publish the app or make it Internal to lift that limit)."

// classify turns a token-endpoint failure into a ReauthError, a
// ConfigError, or returns it unchanged (network trouble, 5xx: retry later).
func classify(account string, err error) error {
	var pe *ProviderError
	if !errors.As(err, &pe) {
		return err
	}
	reauth := func(r Reason, why string) error { return &ReauthError{Account: account, Reason: r, Why: why, Err: pe} }
	config := func(why string) error {
		return &ConfigError{Why: fmt.Sprintf("%s (%s: %s)", why, pe.Endpoint, pe.Code), Err: pe}
	}
	switch pe.AADSTS {
	case 700082:
		return reauth(ReasonExpired, "the refresh token expired because it was not used for 90 days (AADSTS700082). Send a test message now and then (keep-alive) to avoid this.")
	case 50173:
		return reauth(ReasonRevoked, "Microsoft revoked the sign-in, usually because the password was changed or reset, or an administrator revoked the sessions (AADSTS50173).")
	case 50076, 50078, 50079:
		return reauth(ReasonMFA, fmt.Sprintf("the organisation requires multi-factor authentication again for this sign-in (AADSTS%d); sign in in a browser to complete it.", pe.AADSTS))
	case 70043:
		return reauth(ReasonPolicy, "a Conditional Access sign-in frequency policy ended the session (AADSTS70043); an administrator can exclude the sending account or lengthen the frequency.")
	case 65001:
		return reauth(ReasonConsent, "consent for the app or its SMTP.Send permission is missing (AADSTS65001): an administrator must grant admin consent in the app registration (API permissions > Grant admin consent), then sign in again.")
	case 70000:
		return reauth(ReasonReused, "Microsoft refused the refresh token as already used or invalid (AADSTS70000), which revokes the sign-in.")
	case 70008:
		return reauth(ReasonExpired, "the sign-in expired (AADSTS70008).")
	case 50194:
		return config("the app registration is single-tenant, so the tenant common/organizations/consumers cannot be used (AADSTS50194): set the credential file's tenant to your organisation's domain or tenant ID")
	case 7000218:
		return config("the app registration does not allow public clients (AADSTS7000218): an administrator must turn on \"Allow public client flows\" in the app's Authentication settings")
	case 700025:
		return config("the app registration is a public client, so no client secret may be sent (AADSTS700025): remove the client secret from the credential file")
	case 7000215:
		return config("Microsoft refused the client secret (AADSTS7000215): the credential file needs the secret's value, not its ID, and a secret that has not expired")
	case 900144:
		return config("a required parameter was missing (AADSTS900144); check that token_scope in the credential file is not empty")
	case 700016:
		return config("the client ID is not registered in this tenant (AADSTS700016): check the credential file's client ID and tenant")
	}
	switch pe.Code {
	case "invalid_grant":
		if strings.Contains(pe.Description, "expired or revoked") {
			return reauth(ReasonRevoked, googleTestingHint)
		}
		return reauth(ReasonRefused, fmt.Sprintf("the authorization server refused the refresh token (invalid_grant: %s); it has expired or was revoked.", pe.Description))
	case "interaction_required", "login_required":
		return reauth(ReasonMFA, "the authorization server wants the user to sign in interactively ("+pe.Code+").")
	case "consent_required":
		return reauth(ReasonConsent, "consent for the app is missing (consent_required); an administrator may need to grant it.")
	case "invalid_client", "unauthorized_client":
		return config("the authorization server refused the client ID or secret: ask your administrator for a current credential file")
	case "invalid_scope":
		return config("the authorization server refused the scopes: check auth_scope and token_scope in the credential file")
	}
	return err
}
