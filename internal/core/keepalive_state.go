package core

import (
	"context"
	"time"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/keepalive"
	"github.com/bluemoon-mail/bluemoon/internal/schedule"
)

// KeepAliveState is what keeps an OAuth account's sign-in alive, as the
// console's schedules page shows it: when the refresh token was last used,
// when the provider lets it die unused, and whether a daily automatic test
// send (the guide's advice) is scheduled.
type KeepAliveState struct {
	Account string
	Kind    AuthKind
	SignIn  SignInState
	// LastUse is the sign-in or the last refresh, whichever is later
	// (zero: nobody signed in).
	LastUse time.Time
	// Expires is when the sign-in dies if not used before (the provider's
	// idle limit). TestingExpires is Google's 7-day end for an app still
	// in "Testing", zero once past or for Microsoft.
	Expires, TestingExpires time.Time
	// DailyTest is the account's keep-alive schedule that sends a test
	// message; nil when there is none.
	DailyTest *ScheduleInfo
}

// KeepAliveStates returns the keep-alive state of every OAuth account, by
// name, from the token store and the schedules alone (no network).
func (s *Service) KeepAliveStates(ctx context.Context) ([]*KeepAliveState, error) {
	list, err := s.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	return s.keepAliveStates(ctx, list)
}

// ScheduleOverview is the schedules page of a face: every schedule and
// every OAuth account's keep-alive state.
type ScheduleOverview struct {
	Schedules []*ScheduleInfo
	// KeepAlive's DailyTest are entries of Schedules.
	KeepAlive []*KeepAliveState
}

// ScheduleOverview returns Schedules and KeepAliveStates from one reading
// of the schedules: the page shows each schedule once, as it was at one
// moment, and a home with many schedules is read once.
func (s *Service) ScheduleOverview(ctx context.Context) (*ScheduleOverview, error) {
	list, err := s.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	ka, err := s.keepAliveStates(ctx, list)
	if err != nil {
		return nil, err
	}
	return &ScheduleOverview{Schedules: list, KeepAlive: ka}, nil
}

// keepAliveStates is KeepAliveStates with the daily test sends taken
// from list, the home's schedules.
func (s *Service) keepAliveStates(ctx context.Context, list []*ScheduleInfo) ([]*KeepAliveState, error) {
	accts, err := s.accounts().List(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out []*KeepAliveState
	for _, a := range accts {
		if a.Auth != account.AuthXOAuth2 {
			continue
		}
		// The sign-in state holds what the token store says: read once.
		st := &KeepAliveState{Account: a.Name, Kind: s.oauthKind(ctx, a), SignIn: s.signInState(ctx, a, false)}
		if age := st.SignIn.tokenAge(); !age.Obtained.IsZero() {
			st.LastUse = age.LastUse()
			st.Expires, st.TestingExpires = keepalive.Expiry(age)
			if !st.TestingExpires.After(now) {
				st.TestingExpires = time.Time{}
			}
		}
		st.DailyTest = dailyTestIn(list, a.Name)
		out = append(out, st)
	}
	return out, nil
}

// dailyTestIn is the account's keep-alive schedule in list that sends a
// test message; nil when there is none.
func dailyTestIn(list []*ScheduleInfo, acct string) *ScheduleInfo {
	for _, sc := range list {
		if sc.Kind == schedule.KindKeepAlive && sc.Target == acct && sc.SendTest {
			return sc
		}
	}
	return nil
}

// DailyTestSend returns the account's automatic test send schedule (a
// keep-alive with a test message), or nil when it has none.
func (s *Service) DailyTestSend(ctx context.Context, acct string) (*ScheduleInfo, error) {
	if _, err := s.account(ctx, acct); err != nil {
		return nil, err
	}
	return s.dailyTestSend(ctx, acct)
}

// dailyTestSend is DailyTestSend of an account the caller has read.
func (s *Service) dailyTestSend(ctx context.Context, acct string) (*ScheduleInfo, error) {
	list, err := s.Schedules(ctx)
	if err != nil {
		return nil, err
	}
	return dailyTestIn(list, acct), nil
}

// DailyTestSendAt is the time of day of the automatic test send: in
// working hours, so a sign-in it finds needed is seen the same day.
var DailyTestSendAt = schedule.Repeat{Every: schedule.EveryDay, Hour: 9}

// AddDailyTestSend is the guide's advice in one step: a keep-alive of the
// account that refreshes its sign-in and sends it a test message daily
// (run once at start-up when serve was down). When the account has one
// already, it is returned with created false and nothing changes.
func (s *Service) AddDailyTestSend(ctx context.Context, acct string) (info *ScheduleInfo, created bool, err error) {
	if info, err = s.DailyTestSend(ctx, acct); err != nil || info != nil {
		return info, false, err
	}
	cron, err := DailyTestSendAt.Cron()
	if err != nil {
		return nil, false, err
	}
	name := keepAliveName(acct)
	if _, err := s.schedules().Get(ctx, name); err == nil {
		name += "-test" // a keep-alive without the test message has the plain name
	}
	info, err = s.AddSchedule(ctx, ScheduleInput{Name: name, Kind: schedule.KindKeepAlive, Target: acct, SendTest: true,
		Cron: cron, Missed: schedule.MissedRunOnce})
	return info, err == nil, err
}
