package core

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/exitcode"
	"github.com/bluemoon-mail/bluemoon/internal/saved"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// A saved delivery started by a person who watches it (the console's
// "run now"): the same send line `bluemoon run` uses, but in the
// background of this process, so the face can show its live page.

// InUseError: a saved delivery cannot go while schedules run it; a
// schedule left pointing at nothing would fail at its next run, when
// nobody is there to fix it. Nor can an account while deliveries of it are
// unfinished: they could never be resumed, nor their last recipients sent.
// Exit code 2.
type InUseError struct {
	Kind string   // KindSavedDelivery, KindAccount
	Name string   // the saved delivery, the account
	By   []string // the schedules that run it, by name; the account's unfinished deliveries, by ID
	// Preparing are those of By still being prepared (an account's): no
	// list shows them until their preflight ends, and one whose preflight
	// was abandoned is cleaned away CleanedAfter its last sign of life.
	Preparing    []string
	CleanedAfter time.Duration
}

// Listed are the deliveries of By that the lists show (not Preparing).
func (e *InUseError) Listed() []string {
	var out []string
	for _, id := range e.By {
		if !slices.Contains(e.Preparing, id) {
			out = append(out, id)
		}
	}
	return out
}

func (e *InUseError) Error() string {
	if e.Kind == KindAccount {
		var parts []string
		if listed := e.Listed(); len(listed) > 0 {
			parts = append(parts, fmt.Sprintf("its deliveries %s are not finished (they could not be resumed without it); "+
				"resume them to the end, or cancel them (bluemoon deliveries cancel ID)", strings.Join(listed, ", ")))
		}
		if len(e.Preparing) > 0 {
			parts = append(parts, fmt.Sprintf("delivery %s is being prepared through it (its list is read and checked; 'bluemoon deliveries list' shows it once that ends): "+
				"wait for the preparation to end and finish or cancel the delivery; if the program preparing it was stopped, the delivery is cleaned away %s after its last sign of life",
				strings.Join(e.Preparing, ", "), spokenDuration(e.CleanedAfter)))
		}
		return fmt.Sprintf("account %s was not removed: %s, then remove the account", e.Name, strings.Join(parts, "; "))
	}
	return fmt.Sprintf("saved delivery %s is run by schedule %s: remove or change the schedule first", e.Name, strings.Join(e.By, ", "))
}
func (e *InUseError) ExitCode() int { return exitcode.Usage }

// SavedInput is the send a saved delivery stands for, as `bluemoon run`
// would send it; a delivery without its own --name is named after it.
func (s *Service) SavedInput(ctx context.Context, name string) (SendInput, error) {
	d, err := s.SavedDelivery(ctx, name)
	if err != nil {
		return SendInput{}, err
	}
	return savedSend(d)
}

// savedSend is the send d stands for, by hand or by a schedule alike, so
// both runs carry the same name in the deliveries list.
func savedSend(d *saved.Delivery) (SendInput, error) {
	in, err := ParseSendArgs(d.Args()[1:])
	if err != nil {
		return SendInput{}, err
	}
	if in.Name == "" {
		in.Name = d.Name
	}
	return in, nil
}

// CheckSaved is CheckDelivery of a saved delivery: what a person reads
// (recipients ready, rows left out) before running it by hand.
func (s *Service) CheckSaved(ctx context.Context, name string) (*DeliveryCheck, error) {
	in, err := s.SavedInput(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.CheckDelivery(ctx, in)
}

// StartSaved runs a saved delivery now in the background of this
// process, as StartDelivery does (its checks before it returns, a busy
// account a *BusyError), and logs it as a job would be.
func (s *Service) StartSaved(ctx context.Context, name string) (*SendResult, error) {
	in, err := s.SavedInput(ctx, name)
	if err != nil {
		return nil, err
	}
	res, err := s.StartDelivery(ctx, in)
	if err != nil {
		s.log.Error("delivery did not start", "delivery", name, "err", err)
		return res, err
	}
	s.log.Info("started by hand", "delivery", name, "id", res.DeliveryID)
	return res, nil
}

// SavedUsers are the schedules that run saved delivery name.
func (s *Service) SavedUsers(ctx context.Context, name string) ([]string, error) {
	list, err := s.schedules().List(ctx) // the names alone: no next run to work out
	if err != nil {
		return nil, err
	}
	var by []string
	for _, sc := range list {
		if sc.Kind == schedule.KindDelivery && sc.Target == name {
			by = append(by, sc.Name)
		}
	}
	slices.Sort(by)
	return by, nil
}
