package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
)

// accountFlags are the settings flags shared by 'account add' and
// 'account edit'; edit changes only the flags given.
type accountFlags struct {
	from, fromName, smtp, security, auth, credentials, username string
	passwordFile, clientCert, clientKey, caFile, confirmReauth  string
	via                                                         string
	perMinute, perDay, connections, perConnection               int

	password string // read from passwordFile by apply
}

func (fl *accountFlags) register(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&fl.from, "from", "", "sender address (required for add)")
	f.StringVar(&fl.fromName, "from-name", "", "sender display name")
	f.StringVar(&fl.smtp, "smtp", "", "SMTP server HOST:PORT (filled in for google/microsoft credentials)")
	f.StringVar(&fl.security, "security", "", "tls (implicit, port 465), starttls or none")
	f.StringVar(&fl.auth, "auth", "", "xoauth2 (with --credentials), plain, login or none")
	f.StringVar(&fl.credentials, "credentials", "", "imported credentials to sign in with (see 'bluemoon credentials list')")
	f.StringVar(&fl.username, "username", "", "SMTP user name (default: the --from address)")
	f.StringVar(&fl.passwordFile, "password-file", "", "file holding the SMTP password for plain/login ('-': stdin); stored encrypted")
	f.StringVar(&fl.clientCert, "client-cert", "", "PEM file of a TLS client certificate ('' to remove)")
	f.StringVar(&fl.clientKey, "client-key", "", "PEM file of the client certificate's key")
	f.StringVar(&fl.caFile, "ca-file", "", "PEM file of extra CA certificates to trust ('' to remove)")
	f.StringVar(&fl.confirmReauth, "confirm-reauth", "", "true|false: ask before opening a re-sign-in (default true; false for unattended delivery)")
	f.StringVar(&fl.via, "via", "", "how messages leave: smtp (default), graph (Microsoft 365, Graph sendMail) or gmail-api "+
		"(Google, the Gmail API), for a tenant or domain that keeps SMTP AUTH off")
	f.IntVar(&fl.perMinute, "per-minute", 0, "messages per minute (0: no limit; default: the provider's)")
	f.IntVar(&fl.perDay, "per-day", 0, "recipients per rolling 24 hours (0: no limit)")
	f.IntVar(&fl.connections, "connections", 0, "SMTP connections at once (0: no limit)")
	f.IntVar(&fl.perConnection, "per-connection", 0, "messages per connection before reconnecting (0: no limit)")
}

// apply sets a's fields from the flags given; add (isAdd) also fills what
// was not given from the credentials' provider presets.
func (fl *accountFlags) apply(ctx context.Context, app *App, env *accountEnv, cmd *cobra.Command, a *account.Account, isAdd bool) error {
	changed := cmd.Flags().Changed
	if isAdd && !changed("from") {
		return exitcode.Usagef("--from ADDRESS is required")
	}
	if changed("from") {
		a.From = strings.TrimSpace(fl.from)
	}
	if changed("from-name") {
		a.FromName = fl.fromName
	}
	if changed("username") {
		a.Username = fl.username
	}

	kind := provider.Generic
	if changed("credentials") {
		a.Credentials = fl.credentials
	}
	if a.Credentials != "" {
		cr, err := env.creds.Get(ctx, a.Credentials)
		if errors.Is(err, credstore.ErrNotFound) {
			return exitcode.Usagef("--credentials: %w", err)
		}
		if err != nil {
			return err
		}
		kind = cr.Provider
	}
	preset, hasPreset := provider.SMTPPresetFor(kind)

	switch {
	case changed("smtp"):
		host, port, err := parseHostPort(fl.smtp)
		if err != nil {
			return err
		}
		a.SMTPHost, a.SMTPPort = host, port
	case isAdd && hasPreset:
		a.SMTPHost, a.SMTPPort = preset.Host, preset.Port
	case isAdd:
		return exitcode.Usagef("--smtp HOST:PORT is required (or --credentials NAME of a google or microsoft file, which fills it in)")
	}

	switch {
	case changed("security"):
		a.Security = account.Security(strings.ToLower(fl.security))
	case isAdd && hasPreset && !changed("smtp"):
		a.Security = account.Security(preset.Security)
	case isAdd || changed("smtp"):
		// Port 465 is implicit TLS by convention (RFC 8314); elsewhere
		// insist on STARTTLS rather than risk sending a password in clear.
		a.Security = account.SecurityStartTLS
		if a.SMTPPort == 465 {
			a.Security = account.SecurityTLS
		}
	}

	switch {
	case changed("auth"):
		a.Auth = account.AuthMethod(strings.ToLower(fl.auth))
	case isAdd && a.Credentials != "":
		a.Auth = account.AuthXOAuth2
	case isAdd && fl.passwordFile != "":
		a.Auth = account.AuthPlain
	case isAdd:
		return exitcode.Usagef("--auth is required: xoauth2 (with --credentials NAME), plain or login (with --password-file FILE), or none")
	}
	if a.Auth != account.AuthXOAuth2 && changed("credentials") && fl.credentials != "" {
		return exitcode.Usagef("--credentials is only used with --auth xoauth2 (got --auth %s)", a.Auth)
	}
	if a.Auth != account.AuthXOAuth2 && !changed("credentials") && !isAdd {
		a.Credentials = "" // switching away from OAuth drops the link
	}
	if a.Auth == account.AuthXOAuth2 && a.Security == account.SecurityNone {
		return exitcode.Usagef("--auth xoauth2 sends a sign-in token: use --security tls or starttls, not none")
	}

	if changed("password-file") {
		if !usesPassword(a.Auth) {
			return exitcode.Usagef("--password-file is only used with --auth plain or login (got --auth %s)", a.Auth)
		}
		pw, err := readSecretFile(app, "--password-file", fl.passwordFile)
		if err != nil {
			return err
		}
		fl.password = pw
	} else if usesPassword(a.Auth) {
		has, err := account.HasPassword(env.secrets, a.Name)
		if err != nil {
			return err
		}
		if !has {
			return exitcode.Usagef("--auth %s needs the password: give it with --password-file FILE", a.Auth)
		}
	}
	if usesPassword(a.Auth) && a.Security == account.SecurityNone {
		app.Warnf("warning: --security none sends the password in clear text; use it only for a relay on this machine\n")
	}

	viaChanged, err := fl.applyVia(app, a, kind, changed, isAdd)
	if err != nil {
		return err
	}

	if err := fl.applyTLSFiles(a, changed); err != nil {
		return err
	}
	if changed("confirm-reauth") {
		v, err := strconv.ParseBool(fl.confirmReauth)
		if err != nil {
			return exitcode.Usagef("--confirm-reauth %q: use true or false", fl.confirmReauth)
		}
		a.ConfirmReauth = v
	}
	return fl.applyLimits(a, kind, changed, isAdd || viaChanged)
}

// applyVia sets how a's messages leave; an API needs OAuth credentials of
// its provider. It reports whether the way changed (the limits follow it).
func (fl *accountFlags) applyVia(app *App, a *account.Account, kind provider.Kind, changed func(string) bool, isAdd bool) (bool, error) {
	old := a.SendsVia()
	if changed("via") {
		v, err := account.ParseVia(fl.via)
		if err != nil {
			return false, exitcode.Usagef("%w", err)
		}
		a.Via = v
	}
	via := a.SendsVia()
	if !via.API() {
		if via != old && !isAdd {
			app.Warnf("note: the limits are now the %s preset\n", via)
			return true, nil
		}
		return false, nil
	}
	if a.Auth != account.AuthXOAuth2 || kind != via.Provider() {
		return false, exitcode.Usagef("--via %s sends with a %s sign-in: the account needs --auth xoauth2 and --credentials NAME of a %s credential file (see 'bluemoon credentials list')",
			via, via.Provider(), via.Provider())
	}
	if via != old && !isAdd {
		app.Warnf("note: the limits are now the %s preset; sign in again ('bluemoon login %s') if the earlier sign-in did not consent to what %s needs\n",
			via, a.Name, via)
		return true, nil
	}
	return false, nil
}

func parseHostPort(s string) (string, int, error) {
	host, portText, err := net.SplitHostPort(strings.TrimSpace(s))
	port, perr := strconv.Atoi(portText)
	if err != nil || host == "" || perr != nil || port < 1 || port > 65535 {
		return "", 0, exitcode.Usagef("--smtp %q: use HOST:PORT, e.g. smtp.example.com:587", s)
	}
	return host, port, nil
}

// applyTLSFiles checks the certificate files now, so a typo shows here
// rather than at the first delivery.
func (fl *accountFlags) applyTLSFiles(a *account.Account, changed func(string) bool) error {
	if changed("client-cert") || changed("client-key") {
		a.ClientCert, a.ClientKey = fl.clientCert, fl.clientKey
		if changed("client-cert") && fl.clientCert == "" && !changed("client-key") {
			a.ClientKey = ""
		}
		if (a.ClientCert == "") != (a.ClientKey == "") {
			return exitcode.Usagef("--client-cert and --client-key go together: give both (or --client-cert '' to remove)")
		}
		if a.ClientCert != "" {
			if _, err := tls.LoadX509KeyPair(a.ClientCert, a.ClientKey); err != nil {
				return exitcode.Usagef("--client-cert/--client-key: %w", err)
			}
			a.ClientCert, a.ClientKey = absPath(a.ClientCert), absPath(a.ClientKey)
		}
	}
	if changed("ca-file") {
		a.CAFile = fl.caFile
		if a.CAFile != "" {
			pem, err := os.ReadFile(a.CAFile)
			if err != nil {
				return exitcode.Usagef("--ca-file: %w", err)
			}
			if !x509.NewCertPool().AppendCertsFromPEM(pem) {
				return exitcode.Usagef("--ca-file %s holds no PEM certificate", a.CAFile)
			}
			a.CAFile = absPath(a.CAFile)
		}
	}
	return nil
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

func (fl *accountFlags) applyLimits(a *account.Account, kind provider.Kind, changed func(string) bool, isAdd bool) error {
	if isAdd {
		a.Limits = provider.LimitsFor(kind)
		if a.SendsVia().API() {
			a.Limits = provider.APILimits(kind)
		}
	}
	for _, l := range []struct {
		flag string
		val  int
		dst  *int
	}{
		{"per-minute", fl.perMinute, &a.Limits.PerMinute},
		{"per-day", fl.perDay, &a.Limits.PerDay},
		{"connections", fl.connections, &a.Limits.Connections},
		{"per-connection", fl.perConnection, &a.Limits.PerConnection},
	} {
		if !changed(l.flag) {
			continue
		}
		if l.val < 0 {
			return exitcode.Usagef("--%s %d: use 0 (no limit) or a positive number", l.flag, l.val)
		}
		*l.dst = l.val
	}
	return nil
}
