package delivery

import (
	"context"
	"database/sql"
)

// Deliver prepares plan (preflight included) and, unless it is a dry run
// or refused, runs it to the end with dial: the whole of `bluemoon send`
// without its command line, for in-process callers such as the demo.
func Deliver(ctx context.Context, db *sql.DB, plan Plan, dial Dialer, opts Options) (*Preflight, *Outcome, error) {
	pf, err := Prepare(ctx, db, plan)
	if err != nil || plan.DryRun {
		return pf, nil, err
	}
	e := &Engine{DB: db, Dial: dial, Opts: opts}
	out, err := e.Run(ctx, pf.DeliveryID)
	return pf, out, err
}
