package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
	"github.com/bluemoon-mail/bluemoon/internal/secrets"
)

// deliveryDialer returns how the engine opens SMTP sessions for acct.
//
// STAND-IN until internal/transport is on main: this speaks plain go-smtp
// (TLS / STARTTLS / none; AUTH PLAIN or LOGIN with the stored password, or
// no auth). The lead replaces its body with the transport's dialer and
// (app).tokenSource for xoauth2, keeping the signature.
func (app *App) deliveryDialer(ctx context.Context, acct *account.Account, unattended bool) (delivery.Dialer, error) {
	var user, pass string
	switch acct.Auth {
	case account.AuthNone:
	case account.AuthPlain, account.AuthLogin:
		dir, err := app.Home()
		if err != nil {
			return nil, err
		}
		sec, err := secrets.Open(dir)
		if err != nil {
			return nil, err
		}
		pw, err := sec.Get("password:" + acct.Name)
		if err != nil {
			return nil, fmt.Errorf("account %s: no password stored: %w", acct.Name, err)
		}
		user, pass = acct.LoginName(), string(pw)
	default:
		return nil, fmt.Errorf("account %s: %s sign-in needs the SMTP transport, which this build does not have yet", acct.Name, acct.Auth)
	}
	return func(ctx context.Context, refresh bool) (delivery.Mailer, error) {
		var c *smtp.Client
		var err error
		tlsConf := &tls.Config{ServerName: acct.SMTPHost}
		switch acct.Security {
		case account.SecurityTLS:
			c, err = smtp.DialTLS(acct.SMTPAddr(), tlsConf)
		case account.SecurityStartTLS:
			c, err = smtp.DialStartTLS(acct.SMTPAddr(), tlsConf)
		default:
			c, err = smtp.Dial(acct.SMTPAddr())
		}
		if err != nil {
			return nil, smtpErr(err)
		}
		if err := c.Hello("localhost"); err != nil {
			c.Close()
			return nil, smtpErr(err)
		}
		if user != "" {
			var a sasl.Client = sasl.NewPlainClient("", user, pass)
			if acct.Auth == account.AuthLogin {
				a = sasl.NewLoginClient(user, pass)
			}
			if err := c.Auth(a); err != nil {
				c.Close()
				return nil, smtpErr(err)
			}
		}
		return &smtpSession{c: c}, nil
	}, nil
}

type smtpSession struct{ c *smtp.Client }

func (s *smtpSession) Send(ctx context.Context, from string, to []string, msg []byte) (string, error) {
	if dl, ok := ctx.Deadline(); ok {
		s.c.CommandTimeout = time.Until(dl)
	}
	if err := s.c.Mail(from, nil); err != nil {
		s.c.Reset()
		return "", smtpErr(err)
	}
	for _, t := range to {
		if err := s.c.Rcpt(t, nil); err != nil {
			s.c.Reset()
			return "", smtpErr(err)
		}
	}
	w, err := s.c.Data()
	if err != nil {
		return "", smtpErr(err)
	}
	if _, err := w.Write(msg); err != nil {
		return "", smtpErr(err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", smtpErr(err)
	}
	return "250 " + strings.TrimSpace(resp.StatusText), nil
}

func (s *smtpSession) Close() error {
	if err := s.c.Quit(); err == nil {
		return nil // QUIT closed the connection
	}
	return s.c.Close()
}

// sendError classifies a go-smtp failure as the engine branches on it.
type sendError struct {
	err  error
	code int
}

func (e *sendError) Error() string     { return e.err.Error() }
func (e *sendError) Unwrap() error     { return e.err }
func (e *sendError) Temporary() bool   { return e.code == 0 || e.code/100 == 4 }
func (e *sendError) AuthFailure() bool { return e.code == 535 || e.code == 534 || e.code == 530 }

func smtpErr(err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &sendError{err: err, code: se.Code}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return &sendError{err: err}
	}
	return &sendError{err: err}
}
