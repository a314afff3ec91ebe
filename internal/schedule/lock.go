package schedule

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// accountLocks lets one scheduled delivery per account run at a time: the
// provider's limits are per mailbox, and two deliveries would share them
// unpredictably. A second delivery waits for the first.
type accountLocks struct {
	mu    sync.Mutex
	slots map[string]chan struct{}
}

// lock takes account's slot, waiting (and calling onWait once) while it is
// busy. It returns an error only when ctx ends first.
func (l *accountLocks) lock(ctx context.Context, account string, onWait func()) (unlock func(), err error) {
	l.mu.Lock()
	if l.slots == nil {
		l.slots = map[string]chan struct{}{}
	}
	slot, ok := l.slots[account]
	if !ok {
		slot = make(chan struct{}, 1)
		l.slots[account] = slot
	}
	l.mu.Unlock()
	select {
	case slot <- struct{}{}:
	default:
		if onWait != nil {
			onWait()
		}
		select {
		case slot <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return func() { <-slot }, nil
}

// LockAccount takes the lock, shared by every bluemoon process on this data
// home, that one unattended delivery through account holds while it runs
// (`bluemoon run` from cron and serve's jobs alike). When the account is
// busy it calls onWait once and waits until the lock is free or ctx ends.
func LockAccount(ctx context.Context, home, account string, onWait func()) (unlock func(), err error) {
	dir := filepath.Join(home, "locks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock folder: %w", err)
	}
	fl := flock.New(filepath.Join(dir, "send-"+hex.EncodeToString([]byte(account))+".lock"))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock account %s: %w", account, err)
	}
	if !ok {
		if onWait != nil {
			onWait()
		}
		ok, err = fl.TryLockContext(ctx, 250*time.Millisecond)
		if err != nil {
			return nil, fmt.Errorf("lock account %s: %w", account, err)
		}
		if !ok {
			return nil, fmt.Errorf("lock account %s: %w", account, ctx.Err())
		}
	}
	return func() { fl.Unlock() }, nil
}
