package core

import "testing"

// The engine's reasons, as it stores them, sort into the causes a person
// acts on.
func TestPauseCause(t *testing.T) {
	for _, c := range []struct{ status, reason, want string }{
		{"paused", "sign-in needed: the refresh token was refused", CauseSignIn},
		{"paused", "the server refused the sign-in (even with a refreshed token): 535 5.7.3", CauseSignIn},
		{"paused", "the account's limit of 10000 messages per 24 hours is reached; it can go on after 10:00", CauseDailyLimit},
		{"paused", "paused by 'bluemoon deliveries pause'", CauseByHand},
		{"paused", "interrupted", CauseStopped},
		{"paused", "cannot connect to the mail server: dial tcp", CauseConnect},
		{"paused", "the server refuses this account as set up (a new sign-in does not help): 535 5.7.139", CauseSetup},
		{"paused", "journal: disk full", CauseOther},
		{StatusInterrupted, "", CauseProcessDied},
		{"cancelled", "cancelled", CauseCancelled},
		{"running", "", ""},
		{"done", "", ""},
	} {
		if got := PauseCause(c.status, c.reason); got != c.want {
			t.Errorf("%s %q: %q, want %q", c.status, c.reason, got, c.want)
		}
	}
}
