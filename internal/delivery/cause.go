package delivery

// Why a run stopped short, as a code decided where it stops (halt), kept
// beside the English reason: a face says it in its person's language with
// the next step, without reading the English.
const (
	CauseSignIn     = "sign_in"     // a new sign-in is needed: sign in, then resume
	CauseDailyLimit = "daily_limit" // the account's or the provider's daily limit: resume after ResumeAfter
	CauseByHand     = "by_hand"     // paused from the console or 'deliveries pause'
	CauseStopped    = "stopped"     // its program was closed (Ctrl-C, the console quit) or stopped early
	// The scheduler running it as its job (serve, the console's scheduler)
	// stopped, and it with it, cleanly: the next scheduler resumes it.
	CauseSchedulerStopped = "scheduler_stopped"
	CauseConnect          = "connect" // the server could not be reached
	CauseSetup            = "setup"   // the server refuses the account as set up
	CauseCancelled        = "cancelled"
	CauseOther            = "other" // anything else (the journal could not be written…)
)

// ResumedByScheduler says whether a delivery paused for cause is the
// scheduler's to resume (once its ResumeAfter has come), not a person's:
// paused by the daily limit, or stopped with the scheduler that ran it.
func ResumedByScheduler(cause string) bool {
	return cause == CauseDailyLimit || cause == CauseSchedulerStopped
}

// resumedBySchedulerSQL is ResumedByScheduler's causes as an SQL list.
const resumedBySchedulerSQL = `('` + CauseDailyLimit + `', '` + CauseSchedulerStopped + `')`

// pausedForScheduler says whether a delivery paused for cause may yet be
// resumed by the scheduler: it waits for it (ResumedByScheduler), or the
// scheduler's resume of it just paused for a server it could not reach,
// which RetryResume leaves due again. A person's pause of it is turned
// into one by hand, which the scheduler never resumes.
func pausedForScheduler(cause string) bool {
	return ResumedByScheduler(cause) || cause == CauseConnect
}

// pausedForSchedulerSQL is pausedForScheduler's causes as an SQL list:
// the pauses the scheduler's RetryResume and StopResuming may change.
const pausedForSchedulerSQL = `('` + CauseDailyLimit + `', '` + CauseSchedulerStopped + `', '` + CauseConnect + `')`
