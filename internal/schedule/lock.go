package schedule

import (
	"context"
	"sync"
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
