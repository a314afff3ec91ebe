package alert

import (
	"fmt"
	"strings"
	"time"
)

var titles = map[Kind]string{
	SignInNeeded:    "sign-in needed",
	PreflightFailed: "a scheduled delivery would fail",
	DeliveryPaused:  "delivery paused",
	DeliveryFailed:  "delivery failed",
	KeepAliveFailed: "keep-alive failed",
	TokenExpiring:   "sign-in expires soon",
	RunMissed:       "scheduled run missed",
}

// advice is what the reader should do next, in one sentence.
var advice = map[Kind]string{
	SignInNeeded:    "Sign in again on a machine with a browser: bluemoon login %s (add --paste or --device on a server without one).",
	PreflightFailed: "Fix the problem before the delivery is due; 'bluemoon schedule list' shows when that is.",
	DeliveryPaused:  "'bluemoon deliveries show ID' says whether the scheduler goes on with it by itself or you do ('bluemoon deliveries resume ID').",
	DeliveryFailed:  "See 'bluemoon deliveries report ID' for each recipient's outcome.",
	KeepAliveFailed: "Run 'bluemoon keepalive %s' by hand to see the whole message.",
	TokenExpiring:   "Run 'bluemoon keepalive %s' or send with the account before then, or sign in again.",
	RunMissed:       "See the log for what ran at start-up; 'bluemoon schedule list' shows the next run.",
}

// Render gives the subject and plain-text body of an alert e-mail.
func Render(ev Event) (subject, body string) {
	title := titles[ev.Kind]
	if title == "" {
		title = string(ev.Kind)
	}
	subject = "[bluemoon] " + title
	if ev.Account != "" {
		subject += ": account " + ev.Account
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n\n", ev.Message)
	for _, kv := range [][2]string{{"Kind", string(ev.Kind)}, {"Account", ev.Account}, {"Delivery", ev.Delivery}, {"Schedule", ev.Schedule}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "%-9s %s\n", kv[0]+":", kv[1])
		}
	}
	fmt.Fprintf(&b, "%-9s %s\n", "Time:", ev.Time.UTC().Format(time.RFC3339))
	if a := advice[ev.Kind]; a != "" {
		if strings.Contains(a, "%s") {
			a = fmt.Sprintf(a, ev.Account)
		}
		fmt.Fprintf(&b, "\n%s\n", a)
	}
	return subject, b.String()
}
