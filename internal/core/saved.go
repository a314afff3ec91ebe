package core

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/alert"
	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// Saved deliveries: everything `send` needs, under a name, so a timer or a
// cron job runs a delivery with one short line (`bluemoon run NAME`), or a
// schedule runs it.

func (s *Service) saved() *saved.Store { return &saved.Store{DB: s.db.DB} }

// SaveDelivery saves d under d.Name, replacing a delivery of that name.
// File paths are made absolute (relative to this process's folder), and
// everything is checked now — the files, the send options, the account
// and the alert account — not when a timer runs it weeks later.
func (s *Service) SaveDelivery(ctx context.Context, d *saved.Delivery) error {
	if err := d.Absolutize(); err != nil {
		return err
	}
	args, err := absolutizeSendArgs(d.SendArgs)
	if err != nil {
		return err
	}
	d.SendArgs = args
	if err := d.Validate(); err != nil {
		return &exitcode.UsageError{Err: err}
	}
	// A new name must be one a cron line takes as it is; one saved before
	// that rule stays usable (and replaceable) under its name.
	if _, err := s.saved().Get(ctx, d.Name); errors.Is(err, saved.ErrNotFound) {
		if err := CheckSavedName(d.Name); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	in, err := ParseSendArgs(d.Args()[1:])
	if err != nil {
		return err
	}
	if err := s.requireAccount(ctx, "account", "--account", d.Account); err != nil {
		return err
	}
	// The message against the list's columns, as send checks it first: a
	// saved delivery runs later, with nobody there to fix a typo.
	if err := s.CheckTemplate(ctx, d.Account, in.List, in.Message); err != nil {
		return err
	}
	if err := s.CheckAlert(ctx, d.Alert); err != nil {
		return err
	}
	return s.saved().Put(ctx, d)
}

// CheckSavedName checks the name of a new saved delivery
// (saved.CheckName), as a *FieldError on "name"; the console asks first,
// before it makes the delivery's folder.
func CheckSavedName(name string) error {
	if err := saved.CheckName(name); err != nil {
		return fieldErr("name", CodeInvalid, "%w", err)
	}
	return nil
}

// SavedDeliveries lists saved deliveries by name.
func (s *Service) SavedDeliveries(ctx context.Context) ([]*saved.Delivery, error) {
	return s.saved().List(ctx)
}

// SavedDelivery returns a saved delivery by name.
func (s *Service) SavedDelivery(ctx context.Context, name string) (*saved.Delivery, error) {
	d, err := s.saved().Get(ctx, name)
	return d, savedNotFound(name, err)
}

// RemoveSavedDelivery removes a saved delivery. One that schedules run
// is kept: an *InUseError names them.
func (s *Service) RemoveSavedDelivery(ctx context.Context, name string) error {
	if _, err := s.SavedDelivery(ctx, name); err != nil {
		return err
	}
	by, err := s.SavedUsers(ctx, name)
	if err != nil {
		return err
	}
	if len(by) > 0 {
		return &InUseError{Kind: KindSavedDelivery, Name: name, By: by}
	}
	return savedNotFound(name, s.saved().Remove(ctx, name))
}

func savedNotFound(name string, err error) error {
	if errors.Is(err, saved.ErrNotFound) {
		return &NotFoundError{Kind: KindSavedDelivery, Name: name, Err: err}
	}
	return err
}

// RunSaved runs a saved delivery now, as `bluemoon run NAME` does: with
// its alerts (notify, or the saved delivery's own when zero), logged. With
// preflight it only checks that it would work. The error it returns is
// the caller's to show (Job.ErrorShown).
func (s *Service) RunSaved(ctx context.Context, name string, preflight bool, notify alert.Config, ev SendEvents) error {
	if err := s.CheckAlert(ctx, notify); err != nil {
		return err
	}
	return s.RunJob(ctx, Job{Kind: schedule.KindDelivery, Target: name, Preflight: preflight, Alert: notify, ErrorShown: true}, ev)
}

// sendPathFlags are the send flags that name a file or folder.
var sendPathFlags = []string{"--attach-dir", "--recipients", "--text", "--html", "--attach"}

// absolutizeSendArgs makes the paths among a saved delivery's own send
// flags (those after "--", such as --attach-dir) absolute, as Absolutize
// does for its fields: a timer runs it from another folder.
func absolutizeSendArgs(args []string) ([]string, error) {
	out := slices.Clone(args)
	for i := 0; i < len(out); i++ {
		for _, flag := range sendPathFlags {
			switch {
			case out[i] == flag && i+1 < len(out):
				abs, err := filepath.Abs(out[i+1])
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", flag, out[i+1], err)
				}
				out[i+1] = abs
				i++
			case strings.HasPrefix(out[i], flag+"="):
				abs, err := filepath.Abs(strings.TrimPrefix(out[i], flag+"="))
				if err != nil {
					return nil, fmt.Errorf("%s: %w", out[i], err)
				}
				out[i] = flag + "=" + abs
			default:
				continue
			}
			break
		}
	}
	return out, nil
}
