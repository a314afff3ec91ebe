// Package demo sets up what `bluemoon demo` shows: Google-like and
// Microsoft-like sign-in servers, SMTP servers and mail APIs (Graph
// sendMail, Gmail users.messages.send) on 127.0.0.1, and a sample mail
// merge with Japanese and English names.
package demo

import (
	"errors"
	"fmt"
	"slices"

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
	g, err := startProvider(provider.Google, "news@example.jp", smtpsrv.Gmail, smtpsrv.ImplicitTLS)
	if err != nil {
		return nil, err
	}
	m, err := startProvider(provider.Microsoft, "info@contoso.example", smtpsrv.Microsoft, smtpsrv.StartTLS)
	if err != nil {
		g.Close()
		return nil, err
	}
	return &StandIns{Google: g, Microsoft: m}, nil
}

func startProvider(kind provider.Kind, from string, flavor smtpsrv.Flavor, sec smtpsrv.Security) (*Provider, error) {
	o, err := oauthsrv.New(oauthsrv.Options{
		Flavor: kind, ClientID: "demo-" + string(kind) + "-client", Email: from, AutoApprove: true,
	})
	if err != nil {
		return nil, err
	}
	s, err := smtpsrv.Start(smtpsrv.Options{
		Flavor: flavor, Security: sec,
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
	if err != nil {
		o.Close()
		return nil, err
	}
	fl := apisrv.Graph
	if kind == provider.Google {
		fl = apisrv.Gmail
	}
	a, err := apisrv.Start(apisrv.Options{Flavor: fl, CheckToken: o.ValidateAccessToken})
	if err != nil {
		s.Close()
		o.Close()
		return nil, err
	}
	return &Provider{Kind: kind, OAuth: o, SMTP: s, API: a, From: from}, nil
}

// Close stops the provider's servers.
func (p *Provider) Close() error {
	return errors.Join(p.API.Close(), p.SMTP.Close(), p.OAuth.Close())
}

// Close stops every server.
func (s *StandIns) Close() error {
	return errors.Join(s.Google.Close(), s.Microsoft.Close())
}
