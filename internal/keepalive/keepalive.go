// Package keepalive keeps an account's sign-in alive without a person: it
// refreshes the token (the token source saves a rotated refresh token) and,
// if asked, sends a test message to the account itself — the admin guide's
// advice for rarely used accounts, done by the program. It also tells how
// close a refresh token is to a lifetime the provider enforces.
package keepalive

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// TokenAge is what the token store knows about an account's tokens.
type TokenAge struct {
	Provider      provider.Kind
	Obtained      time.Time // when the person signed in (the refresh token's grant)
	LastRefreshed time.Time // the last successful refresh (zero: never)
}

// Steps are the operations a keep-alive performs, given by the caller so
// this package needs neither the OAuth nor the SMTP code.
type Steps struct {
	// Refresh forces a token refresh; nil for accounts without OAuth.
	Refresh func(ctx context.Context) error
	// Age reads token age data; nil or an error skips the lifetime check.
	Age func(ctx context.Context) (TokenAge, error)
	// SendTest sends a test message to the account itself; nil when not asked.
	SendTest func(ctx context.Context) error
	Now      func() time.Time
}

// Report is what a keep-alive did.
type Report struct {
	Refreshed bool      `json:"refreshed"`
	TestSent  bool      `json:"test_sent"`
	Warnings  []Warning `json:"warnings,omitempty"`
}

// Run performs the keep-alive. The first failing step ends it; its error is
// returned as is, so a sign-in-needed error keeps its exit code 4.
func Run(ctx context.Context, st Steps) (Report, error) {
	var r Report
	now := time.Now
	if st.Now != nil {
		now = st.Now
	}
	if st.Refresh != nil {
		if err := st.Refresh(ctx); err != nil {
			return r, fmt.Errorf("refresh: %w", err)
		}
		r.Refreshed = true
	}
	if st.SendTest != nil {
		if err := st.SendTest(ctx); err != nil {
			return r, fmt.Errorf("test message: %w", err)
		}
		r.TestSent = true
	}
	if st.Age != nil {
		age, err := st.Age(ctx)
		if err == nil {
			r.Warnings = Check(age, now())
		} else if !errors.Is(err, context.Canceled) {
			r.Warnings = append(r.Warnings, Warning{Message: "token age unknown: " + err.Error()})
		}
	}
	return r, nil
}
