package core

import (
	"strings"

	"github.com/bluemoon-mail/bluemoon/internal/delivery"
)

// Why a delivery stopped, as a code a face words in its own language with
// the next step. The engine decides it where the run stops and stores it
// beside its English reason (which the CLI prints); these are the cases a
// person acts on differently.
const (
	CauseSignIn     = delivery.CauseSignIn     // a new sign-in is needed: sign in, then resume
	CauseDailyLimit = delivery.CauseDailyLimit // the account's or provider's daily limit: resume after ResumeAfter
	CauseByHand     = delivery.CauseByHand     // paused from the console or 'deliveries pause'
	CauseStopped    = delivery.CauseStopped    // its program was closed (Ctrl-C, the console quit)
	// the scheduler that ran it stopped (serve's shutdown, the console quit
	// with its scheduler): the next scheduler resumes it
	CauseSchedulerStopped = delivery.CauseSchedulerStopped
	CauseConnect          = delivery.CauseConnect // the server could not be reached
	CauseSetup            = delivery.CauseSetup   // the server refuses the account as set up
	CauseProcessDied      = "process_died"        // the program sending it died
	CauseCancelled        = delivery.CauseCancelled
	CauseOther            = delivery.CauseOther
)

// PauseCause is the Cause… of a delivery with this status and the cause
// and reason stored ("" for a delivery that is not stopped short). A
// delivery stopped by a version that kept no cause has its cause read
// from its reason's English.
func PauseCause(status, cause, reason string) string {
	switch status {
	case StatusInterrupted:
		return CauseProcessDied
	case "cancelled":
		return CauseCancelled
	case "paused":
	default:
		return ""
	}
	if cause != "" {
		return cause
	}
	return legacyCause(reason)
}

// legacyCause sorts the reasons stored before causes were.
func legacyCause(reason string) string {
	switch {
	case strings.HasPrefix(reason, "sign-in needed"), strings.HasPrefix(reason, "the server refused the sign-in"):
		return CauseSignIn
	case strings.Contains(reason, "messages per 24 hours"), strings.HasPrefix(reason, "the provider's daily sending limit"):
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
