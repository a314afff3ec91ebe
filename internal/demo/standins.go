// Package demo sets up what `bluemoon demo` shows: Google-like and
// Microsoft-like sign-in servers, SMTP servers and mail APIs (Graph
// sendMail, Gmail users.messages.send) on 127.0.0.1, and a sample mail
// merge with Japanese and English names.
package demo

import (
	"errors"
	"fmt"
	"slices"

	"github.com/bluemoon-mail/bluemoon/internal/loopback"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/apisrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/smtpsrv"
)

// Provider is one stand-in provider: its sign-in server, its SMTP server
// and its mail API (which check the tokens that sign-in server issued,
// audience included) and the mailbox the demo sends from.
type Provider struct {
	Kind  provider.Kind
	OAuth *oauthsrv.Server
	SMTP  *smtpsrv.Server
	API   *apisrv.Server
	From  string
}

// StandIns are every server the demo runs.
type StandIns struct {
	Google, Microsoft *Provider
}

// Start runs both stand-in providers on 127.0.0.1 at free ports. Consent is
// automatic, as for a user who already agreed, so the demo needs no person.
func Start() (*StandIns, error) {
	g, err := StartProvider(provider.Google, ProviderOptions{AutoApprove: true})
	if err != nil {
		return nil, err
	}
	m, err := StartProvider(provider.Microsoft, ProviderOptions{AutoApprove: true})
	if err != nil {
		g.Close()
		return nil, err
	}
	return &StandIns{Google: g, Microsoft: m}, nil
}

// Ports are where one stand-in provider's servers listen; 0 is a free port.
type Ports struct {
	OAuth int `json:"oauth"`
	SMTP  int `json:"smtp"`
	API   int `json:"api"`
}

// ProviderOptions configure StartProvider; the zero value is what the
// demo runs (free ports, nothing kept, nothing delivered anywhere).
type ProviderOptions struct {
	// Ports asks for the ports a kept sandbox had last time; a port taken
	// by something else meanwhile gets a free one instead.
	Ports Ports
	// ClientID is the only client the sign-in server knows (default
	// demo-KIND-client).
	ClientID string
	// OAuthState keeps the sign-in server's grants in this file (see
	// oauthsrv.Options.StateFile).
	OAuthState string
	// AutoApprove skips the consent page.
	AutoApprove bool
	// Deliver is given every message the SMTP server or the mail API
	// accepts, with the name of the one that took it (KIND-smtp, graph,
	// gmail-api).
	Deliver func(server string, m smtpsrv.Message) error
}

// StartProvider runs one stand-in provider's servers on 127.0.0.1.
func StartProvider(kind provider.Kind, po ProviderOptions) (*Provider, error) {
	// from is the address the provider's sender signs in as.
	from, flavor, sec, fl := "info@contoso.example", smtpsrv.Microsoft, smtpsrv.StartTLS, apisrv.Graph
	if kind == provider.Google {
		from, flavor, sec, fl = "news@example.jp", smtpsrv.Gmail, smtpsrv.ImplicitTLS, apisrv.Gmail
	}
	if po.ClientID == "" {
		po.ClientID = "demo-" + string(kind) + "-client"
	}
	var o *oauthsrv.Server
	err := loopback.AtPort(po.Ports.OAuth, func(addr string) (err error) {
		o, err = oauthsrv.New(oauthsrv.Options{Flavor: kind, ClientID: po.ClientID, Email: from,
			AutoApprove: po.AutoApprove, Addr: addr, StateFile: po.OAuthState})
		return err
	})
	if err != nil {
		return nil, err
	}
	var deliverSMTP func(smtpsrv.Message) error
	var deliverAPI func(apisrv.Message) error
	if po.Deliver != nil {
		deliverSMTP = func(m smtpsrv.Message) error { return po.Deliver(string(kind)+"-smtp", m) }
		deliverAPI = func(m apisrv.Message) error {
			return po.Deliver(fl.String(), smtpsrv.Message{User: m.User, From: m.User, To: m.To, Data: m.Data, At: m.At})
		}
	}
	var s *smtpsrv.Server
	err = loopback.AtPort(po.Ports.SMTP, func(addr string) (err error) {
		s, err = smtpsrv.Start(smtpsrv.Options{
			Flavor: flavor, Security: sec, Addr: addr, Deliver: deliverSMTP,
			CheckToken: func(user, token string) error {
				sub, scopes, err := o.ValidateAccessToken(token)
				if err != nil {
					return err
				}
				if sub != user {
					return fmt.Errorf("token of %s used for %s", sub, user)
				}
				if kind == provider.Microsoft && !slices.Contains(scopes, "https://outlook.office.com/SMTP.Send") {
					return fmt.Errorf("token is not for SMTP.Send (a Microsoft token is for one resource)")
				}
				return nil
			},
		})
		return err
	})
	if err != nil {
		o.Close()
		return nil, err
	}
	var a *apisrv.Server
	err = loopback.AtPort(po.Ports.API, func(addr string) (err error) {
		a, err = apisrv.Start(apisrv.Options{Flavor: fl, CheckToken: o.ValidateAccessToken, Addr: addr, Deliver: deliverAPI})
		return err
	})
	if err != nil {
		s.Close()
		o.Close()
		return nil, err
	}
	return &Provider{Kind: kind, OAuth: o, SMTP: s, API: a, From: from}, nil
}

// Ports are where p's servers listen now.
func (p *Provider) Ports() Ports {
	return Ports{OAuth: p.OAuth.Port(), SMTP: p.SMTP.Port(), API: p.API.Port()}
}

// Close stops the provider's servers.
func (p *Provider) Close() error {
	return errors.Join(p.API.Close(), p.SMTP.Close(), p.OAuth.Close())
}

// Close stops every server.
func (s *StandIns) Close() error {
	return errors.Join(s.Google.Close(), s.Microsoft.Close())
}
