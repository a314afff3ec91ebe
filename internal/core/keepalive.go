package core

import (
	"context"
	"fmt"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/keepalive"
	"github.com/bluemoon-mail/bluemoon/internal/oauth"
	"github.com/bluemoon-mail/bluemoon/internal/testsend"
)

// KeepAlive refreshes an account's token (saving the rotated refresh
// token) and, with sendTest, sends a test message to the account itself —
// the guide's advice for rarely used accounts, done by the program. The
// report warns of refresh tokens near a lifetime the provider enforces.
// It is RunJob's keep-alive without the log and alerts.
func (s *Service) KeepAlive(ctx context.Context, name string, sendTest bool, handler SignInHandler) (keepalive.Report, error) {
	acct, err := s.account(ctx, name)
	if err != nil {
		return keepalive.Report{}, err
	}
	steps := keepalive.Steps{Now: s.opts.Clock}
	if acct.Auth == account.AuthXOAuth2 {
		steps.Refresh = func(ctx context.Context) error { return s.refresh(ctx, acct, handler) }
		steps.Age = func(ctx context.Context) (keepalive.TokenAge, error) { return s.tokenAge(acct.Name) }
	}
	if sendTest {
		steps.SendTest = func(ctx context.Context) error { return s.keepAliveMessage(ctx, acct, handler) }
	}
	rep, err := keepalive.Run(ctx, steps)
	for _, w := range rep.Warnings {
		s.log.Warn("sign-in expires soon", "account", name, "expires", w.Expires.Format(time.RFC3339), "message", w.Message)
	}
	return rep, err
}

// tokenAge reads, from the token store, when the account signed in and
// last refreshed (for the lifetime warnings).
func (s *Service) tokenAge(name string) (keepalive.TokenAge, error) {
	sec, err := s.secrets()
	if err != nil {
		return keepalive.TokenAge{}, err
	}
	tok, err := oauth.LoadToken(sec, name)
	if err != nil {
		return keepalive.TokenAge{}, err
	}
	return tokenAgeOf(tok), nil
}

// keepAliveMessage sends a test message from acct to its own address and
// records it with the other test sends.
func (s *Service) keepAliveMessage(ctx context.Context, acct *account.Account, handler SignInHandler) error {
	started := s.now()
	reply, err := s.sendTest(ctx, acct, testsend.Request{
		Account: acct, To: acct.From, Now: s.opts.Clock,
		Subject: "bluemoon keep-alive (" + acct.Name + ")",
		Text: fmt.Sprintf("bluemoon の自動テスト送信（キープアライブ）です。アカウント %s のサインインを維持しています。\n"+
			"This is bluemoon's automatic keep-alive test message for account %s: it keeps the sign-in alive.\n", acct.Name, acct.Name),
	}, handler)
	if rerr := testsend.Record(ctx, s.db.DB, testsend.ResultOf(acct.Name, acct.From, started, reply, err)); rerr != nil {
		s.log.Warn("keep-alive: record the test send", "err", rerr)
	}
	return err
}

// CheckTokenLifetimes raises a token_expiring alert (to the log, and to
// notify) for every OAuth account whose refresh token nears a lifetime the
// provider enforces, from the token store alone: no network, nothing
// refreshed. Serve runs it at start and daily, so accounts without a
// keep-alive are watched too. It returns how many warnings it raised.
func (s *Service) CheckTokenLifetimes(ctx context.Context, notify alert.Config, now time.Time) int {
	accts, err := s.accounts().List(ctx)
	if err != nil {
		s.log.Error("token check: list accounts", "err", err)
		return 0
	}
	n := s.notifier()
	warned := 0
	for _, acct := range accts {
		if acct.Auth != account.AuthXOAuth2 {
			continue
		}
		age, err := s.tokenAge(acct.Name)
		if err != nil {
			continue // never signed in: the account's state says so; nothing is expiring
		}
		for _, w := range keepalive.Check(age, now) {
			warned++
			n.Notify(ctx, notify, alert.Event{Kind: alert.TokenExpiring, Account: acct.Name, Message: w.Message, Time: now})
		}
	}
	return warned
}
