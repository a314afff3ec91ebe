package core

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/recipients"
)

// The checks a face runs while a person prepares a delivery, before the
// send: is the template right for the list, and the preflight table
// (what the list holds, the sign-in and how long it lasts, the limits
// against the list's size). None of them stores anything or uses the
// network.

// CheckTemplate compiles the message against the list's columns (the
// header only is read): a merge field that is not a column, a template
// that does not parse, an attachment column that is not a column come
// back as a *FieldError whose Field is the part at fault ("subject",
// "text", "html", "attach_column") and Code "template"; Err is merge's
// error.
func (s *Service) CheckTemplate(ctx context.Context, acctName string, list ListInput, msg MessageInput) error {
	lo, err := list.options()
	if err != nil {
		return err
	}
	acct, err := s.account(ctx, acctName)
	if err != nil {
		return err
	}
	spec, atts, err := msg.load(acct)
	if err != nil {
		return err
	}
	r, err := recipients.Open(list.Path, lo)
	if err != nil {
		return fieldErr("recipients", CodeInvalid, "%w", err)
	}
	defer r.Close()
	if spec.AttachColumn != "" {
		spec.AttachDir, _ = filepath.Abs(filepath.Dir(list.Path))
	}
	if _, err := merge.Compile(spec, r.Header(), r.EmailIndex(), atts); err != nil {
		return templateErr(err)
	}
	return nil
}

// templateErr names the part of the message a merge error is about; a
// *merge.TemplateError stays reachable (errors.As) for its line, field
// and kind.
func templateErr(err error) error {
	field := "message"
	var te *merge.TemplateError
	switch {
	case errors.As(err, &te):
		switch te.Part {
		case "subject":
			field = "subject"
		case "text body":
			field = "text"
		case "HTML body":
			field = "html"
		}
	case strings.HasPrefix(err.Error(), "--attach-column"):
		field = "attach_column"
	}
	return &FieldError{Field: field, Code: CodeTemplate, Message: err.Error(), Err: err}
}

// CodeTemplate is the FieldError code of a mistake in the message template.
const CodeTemplate = "template"

// DeliveryCheck is the preflight table of a delivery not yet sent.
type DeliveryCheck struct {
	// Preflight: every row read, every address checked, every message
	// rendered once; the rows with problems (left out when sending with
	// SkipInvalid), duplicates and suppressed rows counted.
	Preflight *delivery.Preflight
	Account   *AccountInfo // with its sign-in state as stored (not checked online)
	// SignInUntil is how long the account's sign-in lasts without being
	// used (the refresh token's idle limit, or a shorter known lifetime);
	// zero for an account without OAuth or not signed in.
	SignInUntil time.Time
	Limits      provider.Limits
	SentLast24h int               // messages the account sent in the last 24 hours
	Estimate    delivery.Estimate // how long the ready recipients take within the limits
}

// CheckDelivery runs a delivery's preflight as Send does, without the
// network (no token refresh, no SMTP sign-in), and stores nothing: the
// table a person reads before pressing send. Problems with rows do not
// fail it (they are in Preflight); a list, template or account that
// cannot be used does.
func (s *Service) CheckDelivery(ctx context.Context, in SendInput) (*DeliveryCheck, error) {
	in.DryRun, in.SkipInvalid = true, true
	lp, err := s.prepareLocal(ctx, in, SendEvents{})
	if err != nil {
		return nil, err
	}
	info, err := s.Account(ctx, lp.acct.Name)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c := &DeliveryCheck{Preflight: lp.pf, Account: info, Limits: delivery.LimitsOf(lp.acct)}
	if c.SentLast24h, err = delivery.SentLast24h(ctx, s.db.DB, lp.acct.Name, now); err != nil {
		return nil, err
	}
	c.Estimate = delivery.EstimateFinish(c.Limits, lp.pf.Ready, c.SentLast24h, now)
	if st := info.SignIn; st != nil {
		c.SignInUntil = signInLasts(st)
	}
	return c, nil
}

// signInLasts is when a stored sign-in dies if nothing uses it: its
// provider's idle limit from its last use, or an earlier known lifetime
// (Google's 7 days for an app in Testing).
func signInLasts(st *SignInState) time.Time {
	if st.Health == HealthSignIn || st.Health == HealthError || st.SignedInAt.IsZero() {
		return time.Time{}
	}
	if !st.RefreshToken {
		return st.AccessExpires
	}
	last := st.SignedInAt
	for _, t := range []time.Time{st.LastRefreshed, st.RefreshTokenAt} {
		if t.After(last) {
			last = t
		}
	}
	until := last.Add(idleLimit(st.Provider))
	for _, w := range st.Lifetime {
		if !w.Expires.IsZero() && w.Expires.Before(until) {
			until = w.Expires
		}
	}
	return until
}
