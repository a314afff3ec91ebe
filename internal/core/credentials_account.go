package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/credstore"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
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
	// The account itself first: its own refusal says whose file this is.
	refused, err := s.accountsRefusing(ctx, []string{a.Name}, &incomingCredentials{name: in.Name, kind: o.cfg.Provider})
	if err != nil {
		return nil, nil, err
	}
	if len(refused) > 0 {
		return nil, nil, refused[0].err
	}
	if prev != nil {
		// Replacing: every other account using the name must suit it too.
		if err := s.checkReplace(ctx, in.Name, o.cfg.Provider); err != nil {
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

// credentialUsers names the accounts that sign in with credentials name.
func (s *Service) credentialUsers(ctx context.Context, name string) ([]string, error) {
	all, err := s.accounts().List(ctx)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, u := range all {
		if u.Credentials == name {
			users = append(users, u.Name)
		}
	}
	return users, nil
}

// refusal is an account that could not sign in with incoming credentials,
// and why.
type refusal struct {
	account string
	err     error
}

// accountsRefusing checks, in order, whether each of the accounts named
// could sign in with incoming credentials (not stored yet): the check an
// account's change of credentials gets (the provider against the
// account's server and way of sending). It returns those that could not.
func (s *Service) accountsRefusing(ctx context.Context, names []string, incoming *incomingCredentials) ([]refusal, error) {
	var out []refusal
	for _, name := range names {
		u, err := s.account(ctx, name)
		if err != nil {
			return nil, err
		}
		if err := s.applyAccount(ctx, u, AccountInput{Credentials: &incoming.name}, false, &AccountChange{Account: u}, incoming); err != nil {
			out = append(out, refusal{account: name, err: err})
		}
	}
	return out, nil
}

// CredentialsInUseError refuses to replace credentials with a file that
// accounts signing in with them could not use (another provider's, or the
// account's server or API way is another provider's): nothing is
// imported.
type CredentialsInUseError struct {
	Name     string        // the credentials' name
	Have     provider.Kind // what the new file is for
	Accounts []string      // the accounts that could not use it
	Err      error         // why the first could not
}

func (e *CredentialsInUseError) Error() string {
	return fmt.Sprintf("credentials %s are used by account(s) %s, which could not sign in with this %s file (%s: %v); nothing was imported. "+
		"Import it under another --name and switch each account that should use it ('bluemoon account edit ACCOUNT --credentials NEWNAME'), "+
		"or first switch those accounts to other credentials",
		e.Name, strings.Join(e.Accounts, ", "), e.Have, e.Accounts[0], e.Err)
}
func (e *CredentialsInUseError) Unwrap() error { return e.Err }
func (e *CredentialsInUseError) ExitCode() int { return exitcode.Usage }

// checkReplace refuses to replace credentials name with a file for kind
// when an account using them could not use it (nil when name is new).
func (s *Service) checkReplace(ctx context.Context, name string, kind provider.Kind) error {
	users, err := s.credentialUsers(ctx, name)
	if err != nil || len(users) == 0 {
		return err
	}
	refused, err := s.accountsRefusing(ctx, users, &incomingCredentials{name: name, kind: kind})
	if err != nil || len(refused) == 0 {
		return err
	}
	e := &CredentialsInUseError{Name: name, Have: kind, Err: refused[0].err}
	for _, r := range refused {
		e.Accounts = append(e.Accounts, r.account)
	}
	return e
}
