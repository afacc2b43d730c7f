package inactivity

import (
	"fmt"

	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
)

// Reopen: while a wiki is closed for inactivity and waits for its deletion,
// one of its bureaucrats (a holder of managewiki-core on the wiki, as
// MediaWiki says at that moment) or a steward (managewiki-restricted on the
// central wiki) can have it reopened.
const (
	SignalReopen = "reopen"
	UpdateReopen = "reopen"
)

// reopenInbox takes reopen requests (update and signal) for the whole
// process, so that one sent before the wiki was closed, or after the
// process stopped, is refused and recorded rather than lost.
func (w *watch) reopenInbox() *workflows.Inbox[process.DecisionSignal, process.DecisionSignal, process.ActionRecord] {
	return workflows.PersonInbox(w.St, UpdateReopen, func(ctx workflow.Context, r process.DecisionSignal) process.ActionRecord {
		rec := process.ActionRecord{User: r.User, Reason: r.Comment}
		switch {
		case w.reopen != nil:
			rec.Reason = "the wiki is already being reopened"
		case !w.closed:
			rec.Reason = "only a wiki closed for inactivity can be reopened this way"
		default:
			rec.Accepted, rec.Reason, rec.User = w.mayReopen(ctx, r.User)
			if rec.Accepted && (w.reopen != nil || !w.closed) {
				rec.Accepted, rec.Reason = false, "the wiki's state changed during the rights check"
			}
			if rec.Accepted {
				w.reopen, w.reopener = &r, rec.User
			}
		}
		return rec
	})
}

// mayReopen asks MediaWiki whether user holds managewiki-core on the wiki,
// then whether they hold managewiki-restricted on the central wiki. It
// returns the canonical name to record.
func (w *watch) mayReopen(ctx workflow.Context, user string) (ok bool, reason, name string) {
	local, err := workflows.CheckRight(ctx, "check "+user, user, w.in.Wiki, process.RightManageWikiCore)
	if err != nil {
		return false, err.Error(), user
	}
	if local.NoAccount || local.UserID <= 0 {
		return false, local.Reason, user
	}
	if local.Allowed {
		return true, "", local.User
	}
	central, err := workflows.CheckRight(ctx, "check "+user, user, w.in.Options.CentralWiki, process.RightManageWikiRestricted)
	if err != nil {
		return false, err.Error(), local.User
	}
	if central.Allowed {
		return true, "", local.User
	}
	return false, fmt.Sprintf("%s holds neither %s on %s nor %s on %s", local.User,
		process.RightManageWikiCore, w.in.Wiki, process.RightManageWikiRestricted, w.in.Options.CentralWiki), local.User
}

// reopenWiki reopens the wiki and ends the process. The reopening is logged
// on the wiki itself, which by CreateWiki's own measure is activity: the
// wiki's inactivity counts again from now.
func (w *watch) reopenWiki(ctx workflow.Context) error {
	in := w.step(NameReopenInactive, map[string]string{"reopened_by": w.reopener, "comment": w.reopen.Comment})
	if err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "reopen the wiki"), NameReopenInactive, in).Get(ctx, nil); err != nil {
		return err
	}
	w.closed = false
	w.St.Result[ResultReopenedBy] = w.reopener
	w.St.State = process.StateCompleted
	return nil
}
