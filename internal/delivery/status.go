package delivery

import "time"

// Counts is how many recipients are in each state.
type Counts struct {
	Pending    int `json:"pending"`
	Sending    int `json:"sending"`
	Sent       int `json:"sent"`
	Failed     int `json:"failed"`
	Deferred   int `json:"deferred"`
	Unknown    int `json:"unknown"`
	Skipped    int `json:"skipped"`
	Suppressed int `json:"suppressed"`
	Cancelled  int `json:"cancelled"`
}

func (c *Counts) add(state string, n int) {
	switch state {
	case statePending:
		c.Pending += n
	case stateSending:
		c.Sending += n
	case stateSent:
		c.Sent += n
	case stateFailed:
		c.Failed += n
	case stateDeferred:
		c.Deferred += n
	case stateUnknown:
		c.Unknown += n
	case stateSkipped:
		c.Skipped += n
	case stateSuppressed:
		c.Suppressed += n
	case stateCancelled:
		c.Cancelled += n
	}
}

// Progress is a snapshot for a progress bar or log line.
type Progress struct {
	Counts
	Total   int           // recipients to send to (all but skipped and suppressed)
	Rate    float64       // messages accepted per second, recently
	ETA     time.Duration // at that rate, for what is left; 0 when unknown
	Elapsed time.Duration
}

// Outcome is how a run ended.
type Outcome struct {
	ID          int64     `json:"id"`
	Status      string    `json:"status"`          // done | paused | cancelled
	Cause       string    `json:"cause,omitempty"` // why it stopped short: a Cause…
	Reason      string    `json:"reason,omitempty"`
	SignIn      bool      `json:"sign_in_needed,omitempty"`
	ResumeAfter time.Time `json:"resume_after,omitzero"`
	Counts      Counts    `json:"counts"`
	// Passing: the failure that stopped the run may pass by itself (the
	// server could not be reached for a reason a later try may not meet:
	// the network, a timeout, a refused connection, a 4xx greeting), as
	// opposed to one that needs a change (no STARTTLS, a refused
	// certificate). Not stored: the scheduler's resume reads it at once.
	Passing bool `json:"-"`
}

// ExitCode is the process exit code the outcome stands for.
func (o *Outcome) ExitCode() int {
	switch {
	case o.SignIn:
		return 4
	case o.Status == StatusPaused || o.Status == StatusCancelled:
		return 5
	case o.Counts.Failed > 0 || o.Counts.Unknown > 0:
		return 3 // not every recipient is known to have it
	}
	return 0
}
