package delivery

import (
	"context"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// TransportDialer opens the engine's sessions with the SMTP transport:
// TLS / STARTTLS, the account's sign-in, PIPELINING and BDAT when offered
// (unless cfg.NoChunking). refresh needs no action: transport.Dial itself
// refreshes the token once when the server refuses it.
// An account --via graph or gmail-api gets the HTTPS API's sessions instead.
func TransportDialer(cfg transport.Config) Dialer {
	if cfg.Via.API() {
		return apiDialer(cfg)
	}
	return func(ctx context.Context, _ bool) (Mailer, error) {
		c, err := transport.Dial(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return &transportMailer{c: c}, nil
	}
}

// transportMailer is a transport connection as the engine's BatchMailer.
// The transport's errors already say Temporary, AuthFailure, Uncertain
// and NotSent as the engine asks.
type transportMailer struct {
	c    *transport.Conn
	envs []transport.Envelope
	out  []transport.Result
}

func (m *transportMailer) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	r, err := m.c.Send(ctx, from, to, msg)
	if err != nil {
		return "", err
	}
	return r.String(), nil
}

// SendBatch keeps the items in flight together (PIPELINING, and BDAT when
// the server offers CHUNKING): one or two round trips for the lot.
func (m *transportMailer) SendBatch(ctx context.Context, from string, items []Item) {
	m.envs = m.envs[:0]
	for _, it := range items {
		m.envs = append(m.envs, transport.Envelope{From: from, To: it.To, Msg: it.Msg})
	}
	if cap(m.out) < len(items) {
		m.out = make([]transport.Result, len(items))
	}
	out := m.out[:len(items)]
	m.c.SendBatch(ctx, m.envs, out)
	for i := range items {
		if out[i].Err != nil {
			items[i].Reply, items[i].Err = "", out[i].Err
		} else {
			items[i].Reply, items[i].Err = out[i].Reply.String(), nil
		}
	}
}

func (m *transportMailer) Close() error { return m.c.Close() }

// Stop makes the session finish soon (see transport.Conn.Stop).
func (m *transportMailer) Stop(deadline time.Time) { m.c.Stop(deadline) }

// Via names the way the messages went, for the recipients' outcomes.
func (m *transportMailer) Via() string { return "smtp" }
