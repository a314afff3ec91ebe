package cli

import (
	"context"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// deliveryDialer returns how the delivery engine opens SMTP sessions for
// acct: the transport (TLS / STARTTLS, XOAUTH2 with the account's token
// source, PLAIN / LOGIN with its stored password, PIPELINING when offered).
// The token source is made once, so a sign-in prompt (interactive runs
// only) happens before the first message, never in the middle.
// noChunking keeps batches on DATA for servers that mishandle BDAT.
func (app *App) deliveryDialer(ctx context.Context, acct *account.Account, unattended, noChunking bool) (delivery.Dialer, error) {
	cfg, err := app.transportConfig(ctx, acct, unattended)
	if err != nil {
		return nil, err
	}
	cfg.NoChunking = noChunking
	return delivery.TransportDialer(cfg), nil
}

// transportConfig is acct's SMTP configuration with its credentials: the
// token source for xoauth2, the stored password for plain and login.
func (app *App) transportConfig(ctx context.Context, acct *account.Account, unattended bool) (transport.Config, error) {
	var password string
	var tokens transport.TokenSource
	switch acct.Auth {
	case account.AuthXOAuth2:
		ts, err := tokenSourceFor(app, ctx, acct, unattended)
		if err != nil {
			return transport.Config{}, err
		}
		tokens = ts
	case account.AuthPlain, account.AuthLogin:
		p, err := app.accountPassword(acct.Name)
		if err != nil {
			return transport.Config{}, err
		}
		password = p
	}
	cfg, err := transport.ConfigFor(acct, password, tokens)
	if err != nil {
		return transport.Config{}, exitcode.Usagef("account %s: %w", acct.Name, err)
	}
	if cfg.Via.API() {
		cred, err := credentialsFromDB(ctx, app, acct.Credentials)
		if err != nil {
			return transport.Config{}, err
		}
		cfg.APIEndpoint, _ = cred.API()
	}
	return cfg, nil
}
