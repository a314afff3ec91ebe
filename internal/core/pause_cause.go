package core

import "strings"

// Why a delivery stopped, as a code a face words in its own language with
// the next step. The engine keeps its reason as English text (the CLI
// prints it); these are the cases a person acts on differently.
const (
	CauseSignIn      = "sign_in"      // a new sign-in is needed: sign in, then resume
	CauseDailyLimit  = "daily_limit"  // the account's 24-hour limit: resume after ResumeAfter
	CauseByHand      = "by_hand"      // paused from the console or 'deliveries pause'
	CauseStopped     = "stopped"      // its program was closed (Ctrl-C, the console quit)
	CauseConnect     = "connect"      // the server could not be reached
	CauseSetup       = "setup"        // the server refuses the account as set up
	CauseProcessDied = "process_died" // the program sending it died
	CauseCancelled   = "cancelled"
	CauseOther       = "other"
)

// PauseCause sorts a delivery's status and stored reason into a Cause…
// code ("" for a delivery that is not stopped short).
func PauseCause(status, reason string) string {
	switch status {
	case StatusInterrupted:
		return CauseProcessDied
	case "cancelled":
		return CauseCancelled
	case "paused":
	default:
		return ""
	}
	switch {
	case strings.HasPrefix(reason, "sign-in needed"), strings.HasPrefix(reason, "the server refused the sign-in"):
		return CauseSignIn
	case strings.Contains(reason, "messages per 24 hours"):
		return CauseDailyLimit
	case strings.Contains(reason, "deliveries pause"):
		return CauseByHand
	case reason == "interrupted", reason == "stopped early":
		return CauseStopped
	case strings.HasPrefix(reason, "cannot connect"):
		return CauseConnect
	case strings.HasPrefix(reason, "the server refuses this account"):
		return CauseSetup
	}
	return CauseOther
}
