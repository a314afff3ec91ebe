// Package oauth signs a user in (authorization code + PKCE through a
// loopback listener, the device-code flow, or a pasted-back redirect),
// keeps the tokens of each account in the secrets store, and hands the SMTP
// transport access tokens, refreshing them — and persisting Microsoft's
// rotated refresh tokens — under an inter-process lock.
package oauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

// Token is what the store keeps per account. Its String and GoString
// methods hide the secrets so that printing one by mistake leaks nothing.
type Token struct {
	AccessToken  string        `json:"access_token"`
	TokenType    string        `json:"token_type,omitempty"`
	Expiry       time.Time     `json:"expiry"`
	RefreshToken string        `json:"refresh_token,omitempty"`
	Scopes       []string      `json:"scopes,omitempty"`
	Identity     string        `json:"identity,omitempty"` // who signed in (e-mail), from the ID token or userinfo
	Provider     provider.Kind `json:"provider"`
	ObtainedAt   time.Time     `json:"obtained_at"` // when the user signed in
	// RefreshTokenAt is when the current refresh token was issued: the
	// sign-in, or the last rotation (Microsoft rotates on every refresh).
	RefreshTokenAt time.Time `json:"refresh_token_at"`
	LastRefreshed  time.Time `json:"last_refreshed,omitempty"`
	Refreshes      int       `json:"refreshes"`
	// SignInNeeded records why the last refresh was refused (a sentence
	// without any token in it), so status can say so without a network call.
	SignInNeeded string `json:"sign_in_needed,omitempty"`
	// Resources holds access tokens for other resources than the one the
	// sign-in's token is for, by the scope they were asked with: Microsoft
	// issues one token per resource (SMTP.Send on outlook.office.com,
	// Mail.Send on Microsoft Graph), each redeemed with the one refresh token.
	Resources map[string]*ResourceToken `json:"resources,omitempty"`
	// SignInReason is the Reason of that refusal (expired, revoked, mfa…),
	// for a face to say it in its own words.
	SignInReason Reason `json:"sign_in_reason,omitempty"`
}

// ResourceToken is an access token for another resource of the sign-in.
type ResourceToken struct {
	AccessToken string    `json:"access_token"`
	Expiry      time.Time `json:"expiry"`
	IssuedAt    time.Time `json:"issued_at"`
	Scopes      []string  `json:"scopes,omitempty"`
}

// String describes r without its secret.
func (r ResourceToken) String() string {
	return fmt.Sprintf("oauth.ResourceToken{scopes=%q expiry=%s}", r.Scopes, r.Expiry.Format(time.RFC3339))
}

// GoString keeps %#v from printing the secret too.
func (r ResourceToken) GoString() string { return r.String() }

// String describes t without its secrets.
func (t Token) String() string {
	return fmt.Sprintf("oauth.Token{identity=%q expiry=%s refresh_token=%v}", t.Identity, t.Expiry.Format(time.RFC3339), t.RefreshToken != "")
}

// GoString keeps %#v from printing the secrets too.
func (t Token) GoString() string { return t.String() }

// SecretName is the name an account's tokens have in the secrets store.
func SecretName(account string) string { return "token:" + account }

// ErrNoToken means the account never signed in (or signed out).
var ErrNoToken = errors.New("no sign-in stored")

// LoadToken reads the account's tokens.
func LoadToken(st *secrets.Store, account string) (*Token, error) {
	b, err := st.Get(SecretName(account))
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, ErrNoToken
	}
	if err != nil {
		return nil, err
	}
	var t Token
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("stored sign-in of %s is damaged; run 'bluemoon login %s'", account, account)
	}
	return &t, nil
}

// SaveToken writes the account's tokens (atomically, 0600, encrypted).
// Callers hold the account's secrets lock.
func SaveToken(st *secrets.Store, account string, t *Token) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	return st.Put(SecretName(account), b)
}

// DeleteToken forgets the account's tokens.
func DeleteToken(st *secrets.Store, account string) error {
	return st.Delete(SecretName(account))
}
