package cli

import (
	"context"
	"errors"

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
	var password string
	var tokens transport.TokenSource
	switch acct.Auth {
	case account.AuthXOAuth2:
		if tokenSourceFor == nil {
			return nil, errors.New("this build has no OAuth sign-in: cannot send with auth xoauth2")
		}
		ts, err := tokenSourceFor(app, ctx, acct, unattended)
		if err != nil {
			return nil, err
		}
		tokens = ts
	case account.AuthPlain, account.AuthLogin:
		p, err := app.accountPassword(acct.Name)
		if err != nil {
			return nil, err
		}
		password = p
	}
	cfg, err := transport.ConfigFor(acct, password, tokens)
	if err != nil {
		return nil, exitcode.Usagef("account %s: %w", acct.Name, err)
	}
	cfg.NoChunking = noChunking
	// refresh (the engine's request after a refused token) needs no action
	// here: transport.Dial itself refreshes once when the server refuses a
	// token, and refreshing here too spent a rotation for nothing.
	return func(ctx context.Context, _ bool) (delivery.Mailer, error) {
		c, err := transport.Dial(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return &mailer{c: c}, nil
	}, nil
}

// mailer adapts a transport connection to the engine's BatchMailer.
type mailer struct {
	c    *transport.Conn
	envs []transport.Envelope
	out  []transport.Result
}

func (m *mailer) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	r, err := m.c.Send(ctx, from, to, msg)
	if err != nil {
		return "", engineError(err)
	}
	return r.String(), nil
}

// SendBatch keeps the items in flight together (PIPELINING, and BDAT when
// the server offers CHUNKING): one or two round trips for the lot.
func (m *mailer) SendBatch(ctx context.Context, from string, items []delivery.Item) {
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
			items[i].Reply, items[i].Err = "", engineError(out[i].Err)
		} else {
			items[i].Reply, items[i].Err = out[i].Reply.String(), nil
		}
	}
}

func (m *mailer) Close() error { return m.c.Close() }

// engineError marks a connection lost after the content was written (the
// server may have taken the message) so the engine records the recipient
// unknown instead of retrying, which could send it twice.
func engineError(err error) error {
	var te *transport.Error
	if errors.As(err, &te) && te.Uncertain() {
		return uncertain{err}
	}
	return err
}

// uncertain: see engineError.
type uncertain struct{ error }

func (u uncertain) Unwrap() error   { return u.error }
func (u uncertain) Uncertain() bool { return true }
