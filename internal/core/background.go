package core

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

// Deliveries run in the background of a long-lived process (the web
// console): the checks happen before the call returns, the run goes on
// after it; any process reads how it goes with DeliveryProgress.

// bgRun is a delivery running in the background of this process.
type bgRun struct {
	done chan struct{}
	mu   sync.Mutex
	last *delivery.Progress
	out  *delivery.Outcome
	err  error
}

func (r *bgRun) progress(p delivery.Progress) {
	r.mu.Lock()
	r.last = &p
	r.mu.Unlock()
}

func (r *bgRun) running() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// StartDelivery checks a delivery as Send does (the preflight and sign-in
// check happen before it returns: their errors come back here), then runs
// it in the background of this process and returns its ID at once. Read
// how it goes with DeliveryProgress (from any process), wait for it with
// WaitDelivery; Close pauses it. A busy account is a *BusyError (the
// delivery is left ready to resume).
func (s *Service) StartDelivery(ctx context.Context, in SendInput) (*SendResult, error) {
	if in.DryRun {
		return s.Send(ctx, in, SendEvents{})
	}
	p, err := s.prepare(ctx, in, SendEvents{})
	if err != nil {
		return nil, err
	}
	id := p.pf.DeliveryID
	res := &SendResult{DeliveryID: id, Preflight: p.pf}
	unlockD, err := s.lockDelivery(id)
	if err != nil {
		return res, err
	}
	if err := s.startRun(p.acct, id, p.dial, in.DailyWait, unlockD); err != nil {
		return res, err
	}
	return res, nil
}

// StartResume is Resume in the background of this process: recovery and
// the account's credentials are checked before it returns (a needed
// sign-in is a *ReauthError here), then the run goes on and it returns.
func (s *Service) StartResume(ctx context.Context, id int64, in ResumeInput) (*SendResult, error) {
	if err := checkDailyWait(in.DailyWait); err != nil {
		return nil, err
	}
	acct, d, err := s.deliveryAccount(ctx, id)
	if err != nil {
		return nil, err
	}
	unlockD, err := s.lockDelivery(id)
	if err != nil {
		return nil, err
	}
	res, dial, err := s.recoverForRun(ctx, acct, d, in, SendEvents{})
	if err != nil {
		unlockD()
		return res, err
	}
	return res, s.startRun(acct, id, dial, in.DailyWait, unlockD)
}

// startRun takes the account's lock (a busy account fails here, at once)
// and runs delivery id in the background; unlockD releases the delivery's
// lock, which the caller took, when the run ends.
func (s *Service) startRun(acct *account.Account, id int64, dial delivery.Dialer, dailyWait time.Duration, unlockD func()) error {
	unlockA, err := s.lockAccount(acct.Name, id)
	if err != nil {
		unlockD()
		return err
	}
	if err := s.background(); err != nil {
		unlockA()
		unlockD()
		return err
	}
	r := &bgRun{done: make(chan struct{})}
	s.mu.Lock()
	s.runs[id] = r
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		out, err := s.engine(acct, dial, dailyWait, r.progress).Run(s.bg, id)
		unlockA()
		unlockD()
		if err != nil {
			s.log.Error("delivery stopped", "delivery", id, "account", acct.Name, "err", err)
		}
		r.mu.Lock()
		r.out, r.err = out, outcomeErr(out, err)
		r.mu.Unlock()
		// Done only once the locks are free: a resume right after the
		// wait must not find the delivery busy.
		close(r.done)
	}()
	return nil
}

// WaitDelivery waits for a delivery this process runs in the background
// (StartDelivery, StartResume) to end, and returns its outcome; an
// outcome short of every recipient sent comes with an *OutcomeError. A
// delivery not started in this process is a *NotFoundError.
func (s *Service) WaitDelivery(ctx context.Context, id int64) (*delivery.Outcome, error) {
	s.mu.Lock()
	r := s.runs[id]
	s.mu.Unlock()
	if r == nil {
		return nil, &NotFoundError{Kind: KindDelivery, Name: strconv.FormatInt(id, 10),
			Err: errors.New("delivery " + strconv.FormatInt(id, 10) + " was not started in this process")}
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.out, r.err
}
