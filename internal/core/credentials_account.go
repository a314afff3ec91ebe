package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/bluemoon-mail/bluemoon/internal/credstore"
)

// ImportCredentialFileFor imports a credential file for an account and
// makes the account sign in with it, as one change (the console's 詳細設定
// of an account). Whether the account can use the file (its provider
// against the account's server and way of sending) is checked before
// anything is stored: a refused change imports nothing and leaves the
// account and every credential file as they were. Replacing credentials
// of the same name checks every account that uses them.
func (s *Service) ImportCredentialFileFor(ctx context.Context, accountName string, in ImportInput) (*ImportResult, *AccountChange, error) {
	a, err := s.account(ctx, accountName)
	if err != nil {
		return nil, nil, err
	}
	o, err := s.openImport(ctx, in)
	if err != nil {
		return nil, nil, err
	}
	cs, err := s.credentials()
	if err != nil {
		return nil, nil, err
	}
	// What the name holds now: refused as the store would refuse it, and
	// kept to be put back should the account's change fail after all.
	prev, err := cs.Get(ctx, in.Name)
	switch {
	case errors.Is(err, credstore.ErrNotFound):
		prev = nil
	case err != nil:
		return nil, nil, err
	case !in.Replace:
		return nil, nil, fieldErr("name", CodeExists, "credentials %q: %w (import with another --name, or --replace); nothing was imported", in.Name, credstore.ErrExists)
	}
	users := []string{a.Name}
	if prev != nil {
		all, err := s.accounts().List(ctx)
		if err != nil {
			return nil, nil, err
		}
		for _, u := range all {
			if u.Credentials == in.Name && u.Name != a.Name {
				users = append(users, u.Name)
			}
		}
	}
	incoming := &incomingCredentials{name: in.Name, kind: o.cfg.Provider}
	for _, name := range users {
		u, err := s.account(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		if err := s.applyAccount(ctx, u, AccountInput{Credentials: &in.Name}, false, &AccountChange{Account: u}, incoming); err != nil {
			if name != a.Name {
				return nil, nil, fmt.Errorf("account %s also uses credentials %s: %w; nothing was imported", name, in.Name, err)
			}
			return nil, nil, err
		}
	}
	var undo func() error
	if prev != nil {
		cfg, err := cs.Config(ctx, in.Name)
		if err != nil {
			return nil, nil, err
		}
		undo = func() error {
			return cs.Import(context.WithoutCancel(ctx), in.Name, cfg, credstore.ImportOptions{Signer: prev.Signer, Replace: true})
		}
	} else {
		undo = func() error { return cs.Remove(context.WithoutCancel(ctx), in.Name) }
	}
	if err := s.storeImport(ctx, in, o); err != nil {
		return nil, nil, err
	}
	ch, err := s.EditAccount(ctx, a.Name, AccountInput{Credentials: &in.Name})
	if err != nil {
		// Changed meanwhile by another process: the file goes as it came.
		if uerr := undo(); uerr != nil {
			return nil, nil, fmt.Errorf("%w (and the credentials %s just imported could not be put back: %v)", err, in.Name, uerr)
		}
		return nil, nil, err
	}
	return o.res, ch, nil
}
