package signin

import (
	"context"
	"errors"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/apisrv"
	"github.com/bluemoon-mail/bluemoon/internal/sandbox/oauthsrv"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// APIAccount is an account that sends --via graph or gmail-api: the
// provider's sign-in stand-in, its mail API stand-in checking that
// server's tokens, and the account signed in to both (consent included).
type APIAccount struct {
	Auth   *oauthsrv.Server
	API    *apisrv.Server
	Store  *secrets.Store
	Creds  provider.Config  // the credential file's settings, api_endpoint pointing at API
	Tokens *oauth.Source    // access tokens for the API's scope
	Config transport.Config // what the delivery engine and test send take
	From   string           // the signed-in mailbox
}

// StartAPI starts the stand-ins for via and signs account in, its secrets
// in dir. opts.Flavor and a nil opts.CheckToken are filled in.
func StartAPI(ctx context.Context, dir string, via account.Via, name, from string, opts apisrv.Options) (*APIAccount, error) {
	kind := via.Provider()
	if kind == "" {
		return nil, errors.New("signin: via must be graph or gmail-api")
	}
	auth, err := oauthsrv.New(oauthsrv.Options{Flavor: kind, Email: from})
	if err != nil {
		return nil, err
	}
	opts.Flavor = apisrv.Graph
	if via == account.ViaGmailAPI {
		opts.Flavor = apisrv.Gmail
	}
	if opts.CheckToken == nil {
		opts.CheckToken = auth.ValidateAccessToken
	}
	api, err := apisrv.Start(opts)
	if err != nil {
		auth.Close()
		return nil, err
	}
	a := &APIAccount{Auth: auth, API: api, From: from}
	if a.Store, err = secrets.Open(dir); err != nil {
		a.Close()
		return nil, err
	}
	a.Creds = auth.Config("")
	a.Creds.APIEndpoint = api.URL()
	if err := Account(ctx, a.Store, name, a.Creds.WithAPIScope()); err != nil {
		a.Close()
		return nil, err
	}
	_, scope := a.Creds.API()
	a.Tokens = oauth.NewSource(a.Store, name, a.Creds, oauth.SourceOptions{Scope: scope})
	a.Config = transport.Config{Via: via, APIEndpoint: api.URL(), Tokens: a.Tokens}
	return a, nil
}

// Close stops the stand-ins.
func (a *APIAccount) Close() error {
	return errors.Join(a.API.Close(), a.Auth.Close())
}
