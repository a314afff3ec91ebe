package cli

import (
	"context"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/keepalive"
)

// checkTokenLifetimes warns (log and token_expiring alert) about every OAuth
// account whose refresh token nears a lifetime the provider enforces, from
// the token store alone: no network, nothing refreshed. serve runs it at
// start and daily, so accounts without a keep-alive are watched too.
func (a *App) checkTokenLifetimes(ctx context.Context, cfg alert.Config, now time.Time) int {
	db, err := a.DB(ctx)
	if err != nil {
		return 0
	}
	accts, err := (&account.Store{DB: db.DB}).List(ctx)
	if err != nil {
		a.Logger().Error("token check: list accounts", "err", err)
		return 0
	}
	n := a.notifier()
	warned := 0
	for _, acct := range accts {
		if acct.Auth != account.AuthXOAuth2 {
			continue
		}
		age, err := tokenAge(ctx, a, acct)
		if err != nil {
			continue // never signed in: 'auth status' says so; nothing is expiring
		}
		for _, w := range keepalive.Check(age, now) {
			warned++
			n.Notify(ctx, cfg, alert.Event{Kind: alert.TokenExpiring, Account: acct.Name, Message: w.Message, Time: now})
		}
	}
	return warned
}

// watchTokenLifetimes runs checkTokenLifetimes now and every day until ctx ends.
func (a *App) watchTokenLifetimes(ctx context.Context, cfg alert.Config) {
	for {
		a.checkTokenLifetimes(ctx, cfg, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-time.After(24 * time.Hour):
		}
	}
}
