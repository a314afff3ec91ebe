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

func orApp(names string) string {
	if names == "" {
		return "the requested permission"
	}
	return names
}

const googleTestingHint = "Google refused the refresh token: it has expired or was revoked (\"Token has been expired or revoked\"). " +
	"That happens after a password change, when the user removes the app's access, after 6 months unused, " +
	"and after only 7 days when the app's OAuth consent screen is still in \"Testing\" with external users " +
	"(an administrator can publish the app or make it Internal to lift that limit)."

// classify turns a token-endpoint failure into a ReauthError, a
// ConfigError, or returns it unchanged (network trouble, 5xx: retry later).
func classify(account string, err error) error { return classifyScope(account, "", err) }

// scopeNames turns a scope list into the permissions it names, for a
// sentence: "Mail.Send (https://graph.microsoft.com/Mail.Send)".
func scopeNames(scope string) string {
	var out []string
	for _, sc := range strings.Fields(scope) {
		switch strings.ToLower(sc) {
		case "offline_access", "openid", "email", "profile":
			continue
		}
		if i := strings.LastIndex(sc, "/"); i > 0 && i < len(sc)-1 {
			out = append(out, sc[i+1:]+" ("+sc+")")
		} else {
			out = append(out, sc)
		}
	}
	return strings.Join(out, ", ")
}

// consentFix says what to do when the tenant has not consented to scope.
func consentFix(scope string) string {
	what := "the app or its SMTP.Send permission"
	if n := scopeNames(scope); n != "" {
		what = "the permission " + n
	}
	return "consent for " + what + " is missing"
}

const consentAdvice = ": sign in again, which asks for it; where users may not consent, an administrator must first add " +
	"it to the app registration (API permissions > Add a permission > delegated) and grant admin consent (API permissions > " +
	"Grant admin consent)."

// classifyScope is classify for a token asked with scope, so that a
// missing consent names the permission that lacks it.
func classifyScope(account, scope string, err error) error {
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
	case 65001, 90094, 90095:
		return reauth(ReasonConsent, fmt.Sprintf("%s (AADSTS%d)%s", consentFix(scope), pe.AADSTS, consentAdvice))
	case 65004:
		return reauth(ReasonConsent, fmt.Sprintf("the user declined to consent to %s (AADSTS65004): sign in again and accept, or have an administrator grant admin consent.", orApp(scopeNames(scope))))
	case 650057, 70011:
		return config(fmt.Sprintf("the app registration does not list %s among its API permissions (AADSTS%d): an administrator must add it (delegated) and grant admin consent, then sign in again", orApp(scopeNames(scope)), pe.AADSTS))
	case 500011, 650052:
		return config(fmt.Sprintf("the tenant cannot issue tokens for %s (AADSTS%d): the service is not available to this organisation (no Exchange Online licence, or a national cloud whose api_endpoint / api_scope the credential file must name)", orApp(scopeNames(scope)), pe.AADSTS))
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
		return reauth(ReasonConsent, fmt.Sprintf("%s (consent_required)%s", consentFix(scope), consentAdvice))
	case "invalid_client", "unauthorized_client":
		return config("the authorization server refused the client ID or secret: ask your administrator for a current credential file")
	case "invalid_scope":
		if n := scopeNames(scope); n != "" {
			return config("the authorization server refused the scope " + n + ": check auth_scope, token_scope and api_scope in the credential file, and that the sign-in asked for it")
		}
		return config("the authorization server refused the scopes: check auth_scope and token_scope in the credential file")
	}
	return err
}
