package delivery

import (
	"context"

	"github.com/bluemoon-mail/bluemoon/internal/transport"
	"github.com/bluemoon-mail/bluemoon/internal/transport/mailapi"
)

// apiDialer opens the engine's sessions on a provider's HTTPS API (cfg.Via
// graph or gmail-api). Every session shares one client, so the workers
// share its connections and its Retry-After. Opening a session makes no
// request: it checks the sign-in, and with refresh (after the API refused
// a token) forces one refresh, so a refused token costs one retry and then
// pauses the run for a sign-in, as over SMTP.
func apiDialer(cfg transport.Config) Dialer {
	c, err := mailapi.New(cfg)
	return func(ctx context.Context, refresh bool) (Mailer, error) {
		if err != nil {
			return nil, err
		}
		get := cfg.Tokens.AccessToken
		if refresh {
			get = cfg.Tokens.Refresh
		}
		if _, err := get(ctx); err != nil {
			return nil, err
		}
		return &apiMailer{c: c, via: string(cfg.Via)}, nil
	}
}

// apiMailer is a session on the API: one request per message. It does
// not batch: the account's Connections (4 for Graph) are its requests at once.
type apiMailer struct {
	c   *mailapi.Client
	via string
}

func (m *apiMailer) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	r, err := m.c.Send(ctx, from, to, msg)
	if err != nil {
		return "", err
	}
	return r.String(), nil
}

// Close keeps the shared client's connections for the next session.
func (m *apiMailer) Close() error { return nil }

// Via names the way the messages went, for the recipients' outcomes.
func (m *apiMailer) Via() string { return m.via }
