package core

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"

	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// Lock files under <home>/locks, shared by every bluemoon process (and
// every goroutine: a flock is held per open file, not per process):
//
//	delivery-<id>.lock       the process running or recovering the delivery
//	account-<hex name>.lock  the process sending through the account: its
//	                         limits are per mailbox, so one delivery at a time
//	send-<hex name>.lock     unattended deliveries queue on it (schedule.LockAccount)
//	serve.lock               the one scheduler of the home
//
// Deliveries take the delivery's lock first and hold it from recovery to
// the end of the run, then the account's: a second resume of the same
// delivery is told exactly that, before it touches any row.

func (s *Service) tryLock(name string) (*flock.Flock, bool, error) {
	fl, err := s.lockFile(name)
	if err != nil {
		return nil, false, err
	}
	ok, err := fl.TryLock()
	return fl, ok, err
}

// lockFile is the lock file name under <home>/locks, not yet locked.
func (s *Service) lockFile(name string) (*flock.Flock, error) {
	dir := filepath.Join(s.home, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock folder: %w", err)
	}
	return flock.New(filepath.Join(dir, name)), nil
}

func deliveryLockName(id int64) string { return fmt.Sprintf("delivery-%d.lock", id) }

func accountLockName(account string) string {
	return "account-" + hex.EncodeToString([]byte(account)) + ".lock"
}

// AccountLockFile is the file whose lock a delivery through account holds
// while it sends. Holding it (a test, a maintenance script) makes the
// account busy for bluemoon.
func AccountLockFile(home, account string) string {
	return filepath.Join(home, "locks", accountLockName(account))
}

// lockDelivery takes delivery id's run lock: one process at a time runs or
// recovers a delivery, so a resume never touches a live run's rows.
func (s *Service) lockDelivery(id int64) (unlock func(), err error) {
	fl, ok, err := s.tryLock(deliveryLockName(id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &BusyError{Kind: KindDelivery, DeliveryID: id, Message: fmt.Sprintf(
			"delivery %d is running in another bluemoon process, or waiting there for its account to run (pause it with 'bluemoon deliveries pause %d')", id, id)}
	}
	return func() { fl.Unlock() }, nil
}

// lockAccount takes the account's send lock for delivery id, which is
// left ready to resume when the account is busy.
func (s *Service) lockAccount(name string, id int64) (unlock func(), err error) {
	fl, ok, err := s.tryLock(accountLockName(name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &BusyError{Kind: KindAccount, Name: name, DeliveryID: id, Message: fmt.Sprintf(
			"account %s is sending another delivery in another bluemoon process (its limits are per mailbox); delivery %d is ready: run 'bluemoon deliveries resume %d' when that one is done", name, id, id)}
	}
	return func() { fl.Unlock() }, nil
}

// queueOnAccount waits until no other unattended delivery sends through
// account (calling onWait once if it must wait), so scheduled deliveries
// of one account run one after the other instead of failing as busy.
func (s *Service) queueOnAccount(ctx context.Context, account string, onWait func()) (unlock func(), err error) {
	return schedule.LockAccount(ctx, s.home, account, onWait)
}

// lockServe takes the home's scheduler lock; ok is false when another
// scheduler holds it. A probe (ServeRunning) holds the lock shared for an
// instant, so a refusal is tried again for a moment before it counts.
func (s *Service) lockServe() (unlock func(), ok bool, err error) {
	for try := 0; ; try++ {
		fl, ok, err := s.tryLock(serveLockName)
		if err != nil {
			return nil, false, err
		}
		if ok {
			return func() { fl.Unlock() }, true, nil
		}
		if try == 10 {
			return nil, false, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const serveLockName = "serve.lock"

// ServeRunning reports whether a scheduler (`bluemoon serve`, or a console
// running the schedules) holds this home's serve lock now, in this process
// or another. It never takes the lock for itself: it holds it shared for an
// instant, which a scheduler starting at that instant waits out.
func (s *Service) ServeRunning() (bool, error) {
	fl, err := s.lockFile(serveLockName)
	if err != nil {
		return false, err
	}
	ok, err := fl.TryRLock()
	if err != nil {
		return false, err
	}
	if ok {
		fl.Unlock()
		return false, nil
	}
	return true, nil
}

// runnerAlive reports whether a process (this one or another) runs
// delivery id now. A delivery whose process died leaves status 'running'
// behind: this is what tells the two apart.
//
// It probes the delivery's run lock, which its runner holds for the whole
// run. The probe holds the lock for an instant, so a resume starting at
// that very instant may be told the delivery is busy; internal/delivery
// is to record a heartbeat of its own, and this one function is the place
// to switch to it.
func (s *Service) runnerAlive(id int64) bool {
	s.mu.Lock()
	r := s.runs[id]
	s.mu.Unlock()
	if r != nil && r.running() {
		return true
	}
	fl, ok, err := s.tryLock(deliveryLockName(id))
	if err != nil {
		return false
	}
	if ok {
		fl.Unlock()
		return false
	}
	return true
}
