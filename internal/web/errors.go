package web

import (
	"errors"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// The core's errors carry English text for the CLI and stable codes for a
// face; the console says them in the user's language from the codes and
// keeps the English text (and any server reply) behind "details".

// fieldMessage is a core.FieldError in words: the catalogue's
// "err.<field>.<code>", else "err.<code>" with the field's label (when it
// has a place for one), else the core's English text.
func (v *view) fieldMessage(fe *core.FieldError) string {
	if k := "err." + fe.Field + "." + fe.Code; v.Has(k) {
		return v.T(k)
	}
	label := fe.Field
	if k := "field." + fe.Field; v.Has(k) {
		label = v.T(k)
	}
	if k := "err." + fe.Code; v.Has(k) {
		// Some say what is wrong without naming the field ("not a
		// credential file"): those take no label.
		if m := v.T(k); !strings.Contains(m, "%") {
			return m
		}
		return v.T(k, label)
	}
	return fe.Message
}

// problem is an error as the console shows it: a sentence in the user's
// language, what to do, and the details (English text, server reply).
type problem struct {
	Field   string // the form input it belongs to, if any
	Message string
	Fix     string
	Reply   string // the server's reply line, for SMTP refusals
	Detail  string // the core's full English text
	SignIn  bool   // a new sign-in is the cure: offer the button
}

// explain turns any error from the core into a problem for the page.
func (v *view) explain(err error) problem {
	p := problem{Detail: err.Error()}
	var fe *core.FieldError
	var nf *core.NotFoundError
	var busy *core.BusyError
	var inUse *core.InUseError
	var reauth *core.ReauthError
	var denied *core.AccessDeniedError
	var custom *core.CustomEndpointsError
	var te *transport.Error
	var pm *core.ProviderMismatchError
	var replace *core.CredentialsInUseError
	switch {
	case errors.As(err, &replace):
		// Replacing credentials accounts sign in with, by a file one of
		// them could not use: which accounts, and another name to choose.
		p.Field = "name"
		p.Message = v.T("err.credentials.replace_in_use", replace.Name, strings.Join(replace.Accounts, v.T("saved.list.sep")), v.T("auth."+string(replace.Have)))
		p.Fix = v.T("fix.credentials.replace_in_use")
	case errors.As(err, &pm):
		// What the file is for, what was chosen (or whose server was
		// given), and what to do, beside the input at fault.
		have, want := v.T("auth."+string(pm.Have)), v.T("auth."+string(pm.Want))
		if pm.Server != "" {
			p.Field, p.Message = "smtp_host", v.T("err.smtp_host.provider_mismatch", pm.Server, want, pm.Credentials, have)
		} else {
			p.Field, p.Message = "credentials", v.T("err.credentials.provider_mismatch", pm.Credentials, have, want)
		}
	case errors.As(err, &fe):
		p.Field, p.Message = fe.Field, v.fieldMessage(fe)
	case errors.As(err, &custom):
		p.Message = v.T("err.custom_endpoints", len(custom.Endpoints))
		p.Fix = v.T("fix.custom_endpoints")
	case errors.As(err, &nf):
		p.Message = v.T("err.notfound."+nf.Kind, nf.Name)
	case errors.As(err, &busy):
		p.Message = v.T("err.busy."+busy.Kind, busy.Name)
	case errors.As(err, &inUse) && inUse.Kind == core.KindAccount && len(inUse.Preparing) > 0:
		// A delivery being prepared is in no list yet: say so, and when
		// an abandoned one is cleaned away.
		sep := v.T("saved.list.sep")
		fix := v.T("fix.in_use.account_preparing", durationWords(v, inUse.CleanedAfter))
		if listed := inUse.Listed(); len(listed) > 0 {
			p.Message = v.T("err.in_use.account", inUse.Name, strings.Join(listed, sep)) + " " +
				v.T("err.in_use.account_also_preparing", strings.Join(inUse.Preparing, sep))
			p.Fix = v.T("fix.in_use.account") + " " + fix
		} else {
			p.Message = v.T("err.in_use.account_preparing", inUse.Name, strings.Join(inUse.Preparing, sep))
			p.Fix = fix
		}
	case errors.As(err, &inUse) && v.Has("err.in_use."+inUse.Kind):
		p.Message = v.T("err.in_use."+inUse.Kind, inUse.Name, strings.Join(inUse.By, v.T("saved.list.sep")))
		p.Fix = v.T("fix.in_use." + inUse.Kind)
	case errors.As(err, &reauth):
		p.Message = v.T("err.reauth")
		p.Fix = v.T("fix.reauth")
		p.SignIn = true
	case errors.As(err, &denied):
		p.Message = v.T("err.access_denied")
		p.Fix = v.T("fix.access_denied")
	case errors.Is(err, core.ErrSignInTimeout):
		p.Message = v.T("err.signin_timeout")
	case errors.Is(err, core.ErrSignInCancelled):
		p.Message = v.T("err.signin_cancelled")
	case errors.As(err, &te):
		p.Reply = te.ReplyLine()
		if te.Code == 0 {
			p.Reply = ""
		}
		p.Message = v.T("err.smtp."+te.Class.String(), te.Server)
		if k := "fix.smtp." + te.Reason; te.Reason != "" && v.Has(k) {
			p.Fix = v.T(k)
		} else {
			p.Fix = te.Advice
		}
	default:
		p.Message = v.T("err.other")
	}
	return p
}

// explainIn is explain for a form whose catalogue words some of its
// fields' mistakes itself, as "<prefix>.<field>.<code>"; the rest are
// said as everywhere else.
func (v *view) explainIn(err error, prefix string) problem {
	p := v.explain(err)
	var fe *core.FieldError
	if errors.As(err, &fe) {
		if k := prefix + "." + fe.Field + "." + fe.Code; v.Has(k) {
			p.Message = v.T(k)
		}
	}
	return p
}

// backLink is where an error page leads back to: the list of the section
// whose page failed.
type backLink struct {
	Href  string
	Label string
}

// backSections are the sections by the first part of a request path, in
// the order they are tried: the more specific first.
var backSections = []struct{ prefix, href, key string }{
	{"/deliveries/saved", "/deliveries/saved", "common.back_saved"},
	{"/deliveries", "/deliveries", "common.back_deliveries"},
	{"/drafts", "/deliveries", "common.back_deliveries"},
	{"/schedules", "/schedules", "common.back_schedules"},
	{"/suppression", "/suppression", "common.back_suppression"},
	{"/inbox", "/inbox", "common.back_inbox"},
}

// Back is the error page's way back, chosen from the request path (never
// from a Referer: the address comes from the table above, not the
// request): a failed delivery's page leads to the deliveries, a failed
// schedule's to the schedules; accounts and anything else to the accounts.
func (v *view) Back() backLink {
	for _, s := range backSections {
		if v.Path == s.prefix || strings.HasPrefix(v.Path, s.prefix+"/") {
			return backLink{Href: s.href, Label: v.T(s.key)}
		}
	}
	return backLink{Href: "/accounts", Label: v.T("common.back_accounts")}
}
