package delivery

import (
	"context"
	"database/sql"

	"github.com/bluemoon-mail/bluemoon/internal/account"
	"github.com/bluemoon-mail/bluemoon/internal/merge"
	"github.com/bluemoon-mail/bluemoon/internal/provider"
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

// DeliverFrom sends spec to every recipient of the list file through acct
// (its From, name, limits and size limit), with dial opening its sessions.
// opts may be zero; its Limits are taken from the account.
func DeliverFrom(ctx context.Context, db *sql.DB, acct *account.Account, list string, spec merge.Spec,
	dial Dialer, opts Options) (*Preflight, *Outcome, error) {
	limits := LimitsOf(acct)
	spec.From, spec.FromName = acct.From, acct.FromName
	opts.Limits = limits
	plan := Plan{Account: acct.Name, MaxBytes: limits.MaxMessageBytes, Spec: spec, List: list}
	return Deliver(ctx, db, plan, dial, opts)
}

// LimitsOf returns the account's limits as 'account add/edit' set them
// (the provider's presets, changed by the user; 0 means no limit). An
// account stored with no limits at all gets its provider's presets.
func LimitsOf(acct *account.Account) provider.Limits {
	l := acct.Limits
	if l == (provider.Limits{}) {
		// The provider's host table, as every other "whose server is
		// this": any case, a trailing dot, all its submission hosts.
		kind, known := provider.HostProvider(acct.SMTPHost)
		if !known {
			kind = provider.Generic
		}
		l = provider.LimitsFor(kind)
		if via := acct.SendsVia(); via.API() {
			l = provider.APILimits(via.Provider())
		}
	}
	if l.Connections <= 0 {
		l.Connections = 4 // "no limit": still a bounded number of workers
	}
	return l
}
