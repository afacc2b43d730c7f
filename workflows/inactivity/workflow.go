// Package inactivity is the farm's inactivity policy on the engine: a daily
// sweep (a Temporal Schedule) finds the wikis whose state must change, and
// one process per such wiki warns its bureaucrats, closes it and finally
// hands it to the normal deletion process, re-reading the wiki before each
// stage so that activity or an exemption stops it before anything
// irreversible.
package inactivity

import (
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
)

// KindInactivity is the process kind of one wiki's inactivity.
const KindInactivity = "inactivity"

// InactivityID is the workflow ID of a wiki's inactivity process: one at a
// time per wiki.
func InactivityID(db string) string { return KindInactivity + ":" + db }

// Keys of an inactivity process's Status.Result.
const (
	ResultVerdict       = "verdict"        // the policy's last answer, and why
	ResultLastActivity  = "last_activity"  // the wiki's last activity as last read
	ResultWarnedAt      = "warned_at"      // when this process marked the wiki inactive
	ResultClosedAt      = "closed_at"      // when it closed the wiki
	ResultDeleteProcess = "delete_process" // the deletion it started
	ResultReopenedBy    = "reopened_by"    // the bureaucrat who had the wiki reopened
	// ResultBureaucrats are the wiki's bureaucrats as the last notice found
	// them (a JSON list): a closed wiki is read-only, so they cannot log in
	// there, and the central wiki's Special:Processes offers them reopen.
	ResultBureaucrats = "bureaucrats"
)

// Options are the farm's choices for inactivity processes.
type Options struct {
	Policy      Policy
	CentralWiki string
	// Account is the farm's account the policy acts as: the performer of
	// its Special:Log entries and the requester of the deletions it starts.
	Account string
	// Delete and DeleteDefinition are what the deletions it starts run with.
	Delete           deletewiki.DeleteWikiOptions
	DeleteDefinition process.Definition
}

// Input is one wiki's inactivity process.
type Input struct {
	Wiki    string
	Options Options
}

// Result is how it ended: Status.Result says what was done.
type Result struct {
	Status process.Status
}

// Inactivity follows one wiki through the policy: it reads the wiki, does
// what the policy says (mark active again, warn, close, start the
// deletion), and waits for the next stage when one is due, reading the wiki
// again before acting. A bureaucrat may have a wiki closed for inactivity
// reopened (reopen update or signal) while it waits for its deletion.
func Inactivity(ctx workflow.Context, in Input) (Result, error) {
	w := &watch{in: in}
	w.St = workflows.NewStatus(ctx, KindInactivity, in.Wiki, in.Options.Account, nil)
	w.reopens = w.reopenInbox()
	err := w.Run(ctx, w.run, w.reopens)
	return Result{Status: *w.St}, err
}

type watch struct {
	workflows.Frame
	in       Input
	closed   bool                    // this wiki is closed for inactivity: reopen is possible
	reopen   *process.DecisionSignal // accepted reopen
	reopens  *workflows.Inbox[process.DecisionSignal, process.DecisionSignal, process.ActionRecord]
	reopener string // canonical name of who reopened
}

func (w *watch) run(ctx workflow.Context) error {
	w.ByPerson = true
	if err := w.in.Options.Policy.Validate(); err != nil {
		return workflows.Refuse(w.St, "%v", err)
	}
	if workflows.Protected(w.in.Wiki, w.in.Options.CentralWiki, w.in.Options.Delete.ProtectedWikis) {
		return workflows.Refuse(w.St, "%s is a protected wiki: the inactivity policy does not apply", w.in.Wiki)
	}
	if err := w.reopens.Listen(ctx); err != nil {
		return err
	}
	w.Accept()
	var f *Activities
	for {
		var facts Facts
		if err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "read the wiki's activity"), f.ReadInactivity,
			ReadInput{Wiki: w.in.Wiki, Central: w.in.Options.CentralWiki}).Get(ctx, &facts); err != nil {
			return err
		}
		v := Decide(w.in.Options.Policy, facts, workflow.Now(ctx))
		w.St.Result[ResultVerdict] = string(v.Action) + ": " + v.Why
		if !facts.LastActivity.IsZero() {
			w.St.Result[ResultLastActivity] = facts.LastActivity.UTC().Format(time.RFC3339)
		}
		w.closed = facts.Row.Closed && facts.Row.ClosedReason == ClosedReason
		switch v.Action {
		case ActionNone:
			w.St.State = process.StateCompleted
			return nil
		case ActionActive, ActionReleased:
			if err := w.act(ctx, NameMarkActive, "mark the wiki active"); err != nil {
				return err
			}
			w.St.State = process.StateCompleted
			return nil
		case ActionWarn:
			if err := w.act(ctx, NameMarkInactive, "mark the wiki inactive"); err != nil {
				return err
			}
			w.St.Result[ResultWarnedAt] = workflow.Now(ctx).UTC().Format(time.RFC3339)
			w.notify(ctx, activities.PhaseInactive, workflow.Now(ctx).Add(w.in.Options.Policy.Close))
			w.setState(ctx, process.StateWarned, fmt.Sprintf("**Warned**: %s had no activity for %s; it is closed after %s unless someone edits it.",
				w.in.Wiki, w.in.Options.Policy.Inactive, workflow.Now(ctx).Add(w.in.Options.Policy.Close).UTC().Format(time.RFC3339)))
		case ActionClose:
			if err := w.act(ctx, deletewiki.NameCloseWiki, "close the wiki"); err != nil {
				return err
			}
			w.closed = true
			w.St.Result[ResultClosedAt] = workflow.Now(ctx).UTC().Format(time.RFC3339)
			w.notify(ctx, activities.PhaseClosed, workflow.Now(ctx).Add(w.in.Options.Policy.Remove))
			w.setState(ctx, process.StateClosedInactive, fmt.Sprintf("**Closed for inactivity**: %s goes to deletion after %s unless a bureaucrat asks to reopen it.",
				w.in.Wiki, workflow.Now(ctx).Add(w.in.Options.Policy.Remove).UTC().Format(time.RFC3339)))
		case ActionDelete:
			return w.startDeletion(ctx)
		case ActionWait:
			w.setState(ctx, w.waitingState(), "")
			if _, err := workflow.AwaitWithTimeout(ctx, v.Next.Sub(workflow.Now(ctx)), func() bool { return w.reopen != nil }); err != nil {
				return err
			}
			if w.reopen != nil {
				return w.reopenWiki(ctx)
			}
		}
	}
}

func (w *watch) waitingState() process.State {
	if w.closed {
		return process.StateClosedInactive
	}
	return process.StateWarned
}

func (w *watch) setState(ctx workflow.Context, st process.State, details string) {
	w.St.State = st
	workflows.UpsertState(ctx, st)
	if details != "" {
		workflow.SetCurrentDetails(ctx, details)
	}
}

// step is an activity's input for this process's wiki.
func (w *watch) step(name string, args map[string]string) process.StepInput {
	return process.StepInput{
		ProcessID: w.St.ID, Kind: KindInactivity, Step: name, Wiki: process.WikiSpec{DB: w.in.Wiki},
		Requester: w.in.Options.Account, Args: args,
		Params: map[string]string{activities.ParamCentralWiki: w.in.Options.CentralWiki},
	}
}

// act runs one of the stage activities by name (the process's own, or
// deletewiki's CloseWiki, which closes as a deletion does and logs
// managewiki/closed with the reason).
func (w *watch) act(ctx workflow.Context, name, summary string) error {
	in := w.step(name, map[string]string{"reason": ClosedReason})
	return workflow.ExecuteActivity(workflows.ActivityCtx(ctx, summary), name, in).Get(ctx, nil)
}

// notify tells the bureaucrats; a notice that cannot be sent is recorded,
// never worth stopping the policy for.
func (w *watch) notify(ctx workflow.Context, phase string, next time.Time) {
	in := w.step(activities.NameNotifyBureaucrats, map[string]string{"reason": ClosedReason, "next": next.UTC().Format(time.RFC3339)})
	in.Params["phase"] = phase
	var told process.StepResult
	err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "notify the bureaucrats ("+phase+")"), activities.NameNotifyBureaucrats, in).Get(ctx, &told)
	if err != nil {
		w.St.Result["notify_error_"+phase] = err.Error()
		return
	}
	if list, ok := told.Outputs["bureaucrats"]; ok {
		w.St.Result[ResultBureaucrats] = list
	}
}

// startDeletion hands the wiki to the normal deletion process, approved by
// the policy itself (grace period, verified backup and notices as for any
// deletion). The deletion outlives this process.
func (w *watch) startDeletion(ctx workflow.Context) error {
	o := w.in.Options
	id := deletewiki.DeleteWikiID(w.in.Wiki)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: id, ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:         fmt.Sprintf("Delete %s: closed for inactivity for %s", w.in.Wiki, o.Policy.Remove),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKindKey.ValueSet(deletewiki.KindDeleteWiki), workflows.WikiDBKey.ValueSet(w.in.Wiki),
			workflows.RequesterKey.ValueSet(o.Account), workflows.ProcessStateKey.ValueSet(string(process.StateRunning))),
		Memo: workflows.RetryMemo(ctx),
	})
	w.BeforeChild(ctx)
	child := workflow.ExecuteChildWorkflow(cctx, deletewiki.DeleteWiki, deletewiki.DeleteWikiInput{
		Wiki: w.in.Wiki, Requester: o.Account, Options: o.Delete, Definition: o.DeleteDefinition,
		Reason:     fmt.Sprintf("inactivity: no activity, then closed for %s", o.Policy.Remove),
		ApprovedBy: PolicyApprover,
	})
	var started workflow.Execution
	if err := child.GetChildWorkflowExecution().Get(ctx, &started); err != nil {
		if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
			w.St.Result[ResultDeleteProcess] = id + " (already running)"
			w.St.State = process.StateCompleted
			return nil
		}
		return err
	}
	w.St.Result[ResultDeleteProcess] = id
	w.St.State = process.StateCompleted
	return nil
}

// PolicyApprover is the approval a deletion started by this policy records.
const PolicyApprover = "the farm's inactivity policy"
