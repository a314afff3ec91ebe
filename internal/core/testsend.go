package core

import (
	"context"
	"errors"
	"fmt"
	"net/mail"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/message"
	"github.com/bluemoon-mail/bluemoon/internal/testsend"
	"github.com/bluemoon-mail/bluemoon/internal/transport"
)

// TestSendInput is one test send (the guide's テスト送信).
type TestSendInput struct {
	Account string
	To      string // where the message goes
	Subject string // default: "bluemoon テスト送信 / test send (ACCOUNT)"
	Text    string // default: a short note saying where it came from
	Charset string // utf-8 (default) or iso-2022-jp
	// SignIn is asked when the account needs a new sign-in (see
	// SignInHandler); nil fails with the *ReauthError.
	SignIn SignInHandler
}

// TestSendResult is a test send that the server accepted.
type TestSendResult struct {
	Reply  transport.Reply // the server's final reply
	Record testsend.Result // as recorded with the account's test sends
}

// TestSend sends one message through an account to check its settings and
// sign-in, and records the outcome (the account's LastTestSend). A refusal
// is a *transport.Error with the server's reply and advice; the exit code
// says whether a sign-in (4), a setting (2) or a retry (1) helps.
func (s *Service) TestSend(ctx context.Context, in TestSendInput) (*TestSendResult, error) {
	if in.To == "" {
		return nil, fieldErr("to", CodeRequired, "--to ADDRESS is required (where the test message goes)")
	}
	if a, err := mail.ParseAddress(in.To); err != nil || a.Address != in.To {
		return nil, fieldErr("to", CodeInvalid, "--to %q is not an e-mail address (give it bare, like me@example.com)", in.To)
	}
	cs, err := message.NormalizeCharset(in.Charset)
	if err != nil {
		return nil, fieldErr("charset", CodeInvalid, "--charset: %w", err)
	}
	acct, err := s.account(ctx, in.Account)
	if err != nil {
		return nil, err
	}
	started := s.now()
	reply, err := s.sendTest(ctx, acct, testsend.Request{Account: acct, To: in.To, Subject: in.Subject, Text: in.Text, Charset: cs, Now: s.opts.Clock}, in.SignIn)
	rec := testsend.ResultOf(acct.Name, in.To, started, reply, err)
	if rerr := testsend.Record(ctx, s.db.DB, rec); rerr != nil {
		s.log.Warn("test send not recorded", "account", acct.Name, "err", rerr)
	}
	if err != nil {
		err = fmt.Errorf("test send through %s to %s failed: %w", acct.Name, in.To, err)
		var ce *message.CharsetError
		if errors.As(err, &ce) { // the text given, not the server
			return nil, &FieldError{Field: charsetField(ce), Code: CodeInvalid, Message: err.Error(), Err: ce}
		}
		return nil, err
	}
	return &TestSendResult{Reply: reply, Record: rec}, nil
}

// charsetField is the input whose text cannot be written in the charset.
func charsetField(ce *message.CharsetError) string {
	switch ce.Field {
	case "Subject":
		return "subject"
	case "Text":
		return "text"
	case "HTML":
		return "html"
	}
	return "charset"
}

// sendTest gets the account's credentials and sends.
func (s *Service) sendTest(ctx context.Context, acct *account.Account, req testsend.Request, handler SignInHandler) (transport.Reply, error) {
	cfg, err := s.transportConfig(ctx, acct, handler)
	if err != nil {
		return transport.Reply{}, err
	}
	return testsend.Send(ctx, cfg, req)
}

// TestSends returns an account's recorded test sends, newest first.
func (s *Service) TestSends(ctx context.Context, name string, limit int) ([]testsend.Result, error) {
	return testsend.History(ctx, s.db.DB, name, limit)
}
