package core

import "testing"

// The cause the engine stored is the cause; a delivery stopped before
// causes were stored has its English reason sorted into one.
func TestPauseCause(t *testing.T) {
	for _, c := range []struct{ status, cause, reason, want string }{
		{"paused", CauseDailyLimit, "the provider's daily sending limit is reached: 550 5.4.5", CauseDailyLimit},
		{"paused", CauseSetup, "anything at all", CauseSetup},
		{StatusInterrupted, CauseSignIn, "", CauseProcessDied},
		{"done", CauseOther, "", ""},
		// Stored before the cause column: read from the reason.
		{"paused", "", "sign-in needed: the refresh token was refused", CauseSignIn},
		{"paused", "", "the server refused the sign-in (even with a refreshed token): 535 5.7.3", CauseSignIn},
		{"paused", "", "the account's limit of 10000 messages per 24 hours is reached; it can go on after 10:00", CauseDailyLimit},
		{"paused", "", "the provider's daily sending limit is reached: 550 5.4.5", CauseDailyLimit},
		{"paused", "", "paused by 'bluemoon deliveries pause'", CauseByHand},
		{"paused", "", "interrupted", CauseStopped},
		{"paused", "", "cannot connect to the mail server: dial tcp", CauseConnect},
		{"paused", "", "the server refuses this account as set up (a new sign-in does not help): 535 5.7.139", CauseSetup},
		{"paused", "", "journal: disk full", CauseOther},
		{StatusInterrupted, "", "", CauseProcessDied},
		{"cancelled", "", "cancelled", CauseCancelled},
		{"running", "", "", ""},
		{"done", "", "", ""},
	} {
		if got := PauseCause(c.status, c.cause, c.reason); got != c.want {
			t.Errorf("%s %q %q: %q, want %q", c.status, c.cause, c.reason, got, c.want)
		}
	}
}
