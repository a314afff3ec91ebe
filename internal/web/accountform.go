package web

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// accountForm is the guide's メール送信 tab as a form: what the user typed,
// kept as text so a refused form comes back exactly as it was sent.
type accountForm struct {
	IsNew                                   bool
	Name, From, FromName                    string
	SMTPHost, SMTPPort, Security            string
	AuthChoice                              string // none, password, google, microsoft, generic
	Mechanism                               string // plain or login, for password
	Username                                string
	PasswordSet                             bool // an account being edited has one stored
	Credentials                             string
	Via                                     string // smtp, graph (Microsoft) or gmail-api (Google)
	ClientCert, ClientKey, CAFile           string
	UseClientCert                           bool
	ConfirmReauth                           bool
	PerMinute, PerDay, Connections, PerConn string
}

// authChoices are the guide's 認証方式, in its order.
var authChoices = []string{"none", "password", "google", "microsoft", "generic"}

// formFields are the inputs a draft keeps (every one but the password).
var formFields = []string{"name", "from", "from_name", "smtp_host", "smtp_port", "security", "auth_choice", "mechanism",
	"username", "credentials", "via", "use_client_cert", "client_cert", "client_key", "ca_file", "confirm_reauth",
	"per_minute", "per_day", "connections", "per_connection"}

// formFromAccount fills the form from a stored account.
func formFromAccount(info *core.AccountInfo) accountForm {
	a := info.Account
	f := accountForm{Name: a.Name, From: a.From, FromName: a.FromName, SMTPHost: a.SMTPHost, SMTPPort: strconv.Itoa(a.SMTPPort),
		Security: string(a.Security), Username: a.Username, PasswordSet: info.PasswordSet, Credentials: a.Credentials,
		ClientCert: a.ClientCert, ClientKey: a.ClientKey, CAFile: a.CAFile, UseClientCert: a.ClientCert != "",
		ConfirmReauth: a.ConfirmReauth, Mechanism: "plain", Via: string(a.SendsVia()),
		PerMinute: strconv.Itoa(a.Limits.PerMinute), PerDay: strconv.Itoa(a.Limits.PerDay),
		Connections: strconv.Itoa(a.Limits.Connections), PerConn: strconv.Itoa(a.Limits.PerConnection)}
	switch info.Kind {
	case core.AuthPassword:
		f.AuthChoice, f.Mechanism = "password", string(a.Auth)
	case core.AuthGoogle, core.AuthMicrosoft, core.AuthGenericOAuth:
		f.AuthChoice = string(info.Kind)
	default:
		f.AuthChoice = "none"
	}
	return f
}

// formFromValues reads a posted (or drafted) form.
func formFromValues(v url.Values) accountForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := accountForm{Name: g("name"), From: g("from"), FromName: v.Get("from_name"), SMTPHost: g("smtp_host"), SMTPPort: g("smtp_port"),
		Security: g("security"), AuthChoice: g("auth_choice"), Mechanism: g("mechanism"), Username: g("username"),
		Credentials: g("credentials"), Via: g("via"), UseClientCert: v.Get("use_client_cert") != "", ClientCert: g("client_cert"), ClientKey: g("client_key"),
		CAFile: g("ca_file"), ConfirmReauth: v.Get("confirm_reauth") != "",
		PerMinute: g("per_minute"), PerDay: g("per_day"), Connections: g("connections"), PerConn: g("per_connection")}
	if f.Mechanism == "" {
		f.Mechanism = "plain"
	}
	return f
}

// values is the draft of the form (never the password).
func (f accountForm) values() url.Values {
	v := url.Values{}
	for k, s := range map[string]string{"name": f.Name, "from": f.From, "from_name": f.FromName, "smtp_host": f.SMTPHost,
		"smtp_port": f.SMTPPort, "security": f.Security, "auth_choice": f.AuthChoice, "mechanism": f.Mechanism,
		"username": f.Username, "credentials": f.Credentials, "via": f.Via, "client_cert": f.ClientCert, "client_key": f.ClientKey,
		"ca_file": f.CAFile, "per_minute": f.PerMinute, "per_day": f.PerDay, "connections": f.Connections, "per_connection": f.PerConn} {
		v.Set(k, s)
	}
	if f.UseClientCert {
		v.Set("use_client_cert", "on")
	}
	if f.ConfirmReauth {
		v.Set("confirm_reauth", "on")
	}
	return v
}

// input turns the form into the core's input; password is "" to keep the
// stored one. A number that is not one is a field error in the form's words.
func (f accountForm) input(password string) (core.AccountInput, *core.FieldError) {
	in := core.AccountInput{From: &f.From, FromName: &f.FromName, ConfirmReauth: core.Ptr(f.ConfirmReauth)}
	if f.SMTPHost != "" || !f.isOAuthPreset() {
		in.SMTPHost = &f.SMTPHost
	}
	if f.Security != "" {
		in.Security = &f.Security
	}
	port, err := optInt(f.SMTPPort, "smtp_port")
	if err != nil {
		return in, err
	}
	// The CLI's one --smtp HOST:PORT is two inputs here: a port out of
	// range is the port's mistake, not the server's.
	if port != nil && (*port < 1 || *port > 65535) {
		return in, &core.FieldError{Field: "smtp_port", Code: core.CodeInvalid, Message: "smtp_port: use a port from 1 to 65535"}
	}
	in.SMTPPort = port
	// An API way belongs to its provider; every other choice sends by SMTP.
	via := "smtp"
	if (f.AuthChoice == "microsoft" && f.Via == "graph") || (f.AuthChoice == "google" && f.Via == "gmail-api") {
		via = f.Via
	}
	in.Via = &via
	switch f.AuthChoice {
	case "password":
		in.Auth = core.Ptr(f.Mechanism)
		in.Username = &f.Username
		if password != "" {
			in.Password = &password
		}
		in.Credentials = core.Ptr("")
	case "google", "microsoft", "generic":
		in.Auth = core.Ptr(string(account.AuthXOAuth2))
		in.Credentials = &f.Credentials
		// The core refuses a credential file of another provider than
		// the one chosen here.
		in.Provider = core.Ptr(f.AuthChoice)
		if f.Credentials == "" {
			return in, &core.FieldError{Field: "credentials", Code: core.CodeRequired, Message: "choose or import a credential file"}
		}
	case "none":
		in.Auth = core.Ptr(string(account.AuthNone))
		in.Credentials = core.Ptr("")
	default:
		return in, &core.FieldError{Field: "auth_choice", Code: core.CodeRequired, Message: "choose how the account signs in"}
	}
	if f.UseClientCert {
		in.ClientCert, in.ClientKey = &f.ClientCert, &f.ClientKey
	} else {
		in.ClientCert, in.ClientKey = core.Ptr(""), core.Ptr("")
	}
	in.CAFile = &f.CAFile
	for _, l := range []struct {
		text, field string
		dst         **int
	}{{f.PerMinute, "per_minute", &in.PerMinute}, {f.PerDay, "per_day", &in.PerDay},
		{f.Connections, "connections", &in.Connections}, {f.PerConn, "per_connection", &in.PerConnection}} {
		n, err := optInt(l.text, l.field)
		if err != nil {
			return in, err
		}
		*l.dst = n
	}
	return in, nil
}

// isOAuthPreset: an empty server with Google or Microsoft takes the preset.
func (f accountForm) isOAuthPreset() bool {
	return f.AuthChoice == "google" || f.AuthChoice == "microsoft"
}

// optInt reads an optional whole number: "" is not given.
func optInt(s, field string) (*int, *core.FieldError) {
	s = strings.ReplaceAll(strings.TrimSpace(s), ",", "")
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, &core.FieldError{Field: field, Code: "not_number", Message: field + ": not a whole number"}
	}
	return &n, nil
}

// presetJSON is what choosing a provider fills in (server, port, security),
// for the form's script; nil for choices without a preset.
func presetFor(choice string) map[string]string {
	p, ok := provider.SMTPPresetFor(provider.Kind(choice))
	if !ok {
		return nil
	}
	return map[string]string{"smtp_host": p.Host, "smtp_port": strconv.Itoa(p.Port), "security": p.Security}
}

// Limit is a limit field's text, by its input name (for the form's loop).
func (f accountForm) Limit(name string) string {
	switch name {
	case "per_minute":
		return f.PerMinute
	case "per_day":
		return f.PerDay
	case "connections":
		return f.Connections
	case "per_connection":
		return f.PerConn
	}
	return ""
}
