package delivery

import (
	"context"
	"time"

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
			get = c.RefreshRefused
		}
		if _, err := get(ctx); err != nil {
			return nil, err
		}
		m := &apiMailer{c: c, via: string(cfg.Via)}
		m.cut, m.cutNow = context.WithCancel(context.Background())
		return m, nil
	}
}

// apiMailer is a session on the API: one request per message. It does
// not batch: the account's Connections (4 for Graph) are its requests at once.
type apiMailer struct {
	c   *mailapi.Client
	via string
	// cut ends a request still under way at a stop's deadline: written,
	// it is Uncertain (unknown), not yet written, NotSent (put back).
	cut    context.Context
	cutNow context.CancelFunc
}

func (m *apiMailer) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(m.cut, cancel)()
	r, err := m.c.Send(ctx, from, to, msg)
	if err != nil {
		return "", err
	}
	return r.String(), nil
}

// Stop ends the request under way, if any, at deadline (the engine
// starts no new one after a stop).
func (m *apiMailer) Stop(deadline time.Time) {
	time.AfterFunc(time.Until(deadline), m.cutNow)
}

// Close keeps the shared client's connections for the next session.
func (m *apiMailer) Close() error {
	m.cutNow()
	return nil
}

// Via names the way the messages went, for the recipients' outcomes.
func (m *apiMailer) Via() string { return m.via }
