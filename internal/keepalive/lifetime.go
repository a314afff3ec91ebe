package keepalive

import (
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// Lifetimes the providers enforce on refresh tokens.
const (
	MicrosoftIdle    = 90 * 24 * time.Hour     // AADSTS700082 after 90 days without use
	GoogleTesting    = 7 * 24 * time.Hour      // apps left in "Testing" with external users
	GoogleIdle       = 6 * 30 * 24 * time.Hour // about six months unused
	WarnAheadIdle    = 14 * 24 * time.Hour     // warn two weeks before an idle limit
	WarnAheadTesting = 2 * 24 * time.Hour      // and two days before Google's 7-day limit
)

// Warning says a refresh token nears (or passed) a lifetime.
type Warning struct {
	Expires time.Time `json:"expires,omitzero"`
	Message string    `json:"message"`
}

// Check returns warnings for a token of age a at now. A token refreshed
// within its idle limit resets the idle clock (Microsoft rotates it, Google
// counts use), so the idle check measures from the last refresh; Google's
// 7-day Testing limit counts from the sign-in and is not reset by use.
func Check(a TokenAge, now time.Time) []Warning {
	idle, testing := Expiry(a)
	var ws []Warning
	if !testing.IsZero() && now.After(testing.Add(-WarnAheadTesting)) && now.Before(testing) {
		ws = append(ws, Warning{Expires: testing, Message: fmt.Sprintf(
			"if the Google OAuth app is still in \"Testing\" (Google Cloud console › OAuth consent screen), this sign-in ends %s, 7 days after it was made; publish the app as Internal (Workspace) or In production to lift the limit",
			testing.UTC().Format("2006-01-02 15:04 MST"))})
	}
	if !idle.IsZero() && now.After(idle.Add(-WarnAheadIdle)) {
		who := map[provider.Kind]string{provider.Microsoft: "Microsoft", provider.Google: "Google"}[a.Provider]
		lastUse := a.LastUse()
		ws = append(ws, Warning{Expires: idle, Message: fmt.Sprintf(
			"%s refresh tokens expire after %d days unused: this one was last used %s and expires %s unless it is used before then (keep-alive does that)",
			who, int(idle.Sub(lastUse).Hours()/24), lastUse.UTC().Format("2006-01-02"), idle.UTC().Format("2006-01-02 15:04 MST"))})
	}
	return ws
}

// Expiry says when a token of age a dies if nobody uses it: idle is the
// provider's idle limit counted from the last use (zero for a provider
// without one); testing is Google's 7-day end for an app in "Testing",
// counted from the sign-in (zero for other providers) — whether the app is
// in Testing cannot be known here.
func Expiry(a TokenAge) (idle, testing time.Time) {
	if a.Obtained.IsZero() {
		return time.Time{}, time.Time{}
	}
	lastUse := a.LastUse()
	switch a.Provider {
	case provider.Microsoft:
		return lastUse.Add(MicrosoftIdle), time.Time{}
	case provider.Google:
		return lastUse.Add(GoogleIdle), a.Obtained.Add(GoogleTesting)
	}
	return time.Time{}, time.Time{}
}

// LastUse is when the refresh token was last used: the last refresh, or
// the sign-in.
func (a TokenAge) LastUse() time.Time {
	if a.LastRefreshed.IsZero() || a.LastRefreshed.Before(a.Obtained) {
		return a.Obtained
	}
	return a.LastRefreshed
}
