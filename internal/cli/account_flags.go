package cli

import (
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bluemoon-mail/bluemoon/internal/core"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
)

// accountFlags are the settings flags shared by 'account add' and
// 'account edit'; edit changes only the flags given.
type accountFlags struct {
	from, fromName, smtp, security, auth, credentials, username string
	passwordFile, clientCert, clientKey, caFile, confirmReauth  string
	via                                                         string
	perMinute, perDay, connections, perConnection               int
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

// input is the account settings of the flags given; the password is read
// from --password-file here, so core never sees a file name for it.
func (fl *accountFlags) input(app *App, cmd *cobra.Command) (core.AccountInput, error) {
	changed := cmd.Flags().Changed
	var in core.AccountInput
	for _, s := range []struct {
		flag string
		val  string
		dst  **string
	}{
		{"from", fl.from, &in.From}, {"from-name", fl.fromName, &in.FromName}, {"security", fl.security, &in.Security},
		{"auth", fl.auth, &in.Auth}, {"credentials", fl.credentials, &in.Credentials}, {"username", fl.username, &in.Username},
		{"client-cert", fl.clientCert, &in.ClientCert}, {"client-key", fl.clientKey, &in.ClientKey}, {"ca-file", fl.caFile, &in.CAFile},
		{"via", fl.via, &in.Via},
	} {
		if changed(s.flag) {
			*s.dst = core.Ptr(s.val)
		}
	}
	for _, n := range []struct {
		flag string
		val  int
		dst  **int
	}{
		{"per-minute", fl.perMinute, &in.PerMinute}, {"per-day", fl.perDay, &in.PerDay},
		{"connections", fl.connections, &in.Connections}, {"per-connection", fl.perConnection, &in.PerConnection},
	} {
		if changed(n.flag) {
			*n.dst = core.Ptr(n.val)
		}
	}
	if changed("smtp") {
		host, port, err := parseHostPort(fl.smtp)
		if err != nil {
			return in, err
		}
		in.SMTPHost, in.SMTPPort = &host, &port
	}
	if changed("password-file") {
		pw, err := readSecretFile(app, "--password-file", fl.passwordFile)
		if err != nil {
			return in, err
		}
		in.Password = &pw
	}
	if changed("confirm-reauth") {
		v, err := strconv.ParseBool(fl.confirmReauth)
		if err != nil {
			return in, exitcode.Usagef("--confirm-reauth %q: use true or false", fl.confirmReauth)
		}
		in.ConfirmReauth = &v
	}
	return in, nil
}

func parseHostPort(s string) (string, int, error) {
	host, portText, err := net.SplitHostPort(strings.TrimSpace(s))
	port, perr := strconv.Atoi(portText)
	if err != nil || host == "" || perr != nil || port < 1 || port > 65535 {
		return "", 0, exitcode.Usagef("--smtp %q: use HOST:PORT, e.g. smtp.example.com:587", s)
	}
	return host, port, nil
}
