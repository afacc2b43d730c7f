package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
)

// start starts a workflow and, in the same round trip (Update-with-Start),
// gets its answer to the checked update: a refusal (unknown wiki, no right,
// invalid value) comes back as a RefusedError, the process left ended with
// the reason; a request taken comes back with the status after its checks.
func (c *Client) start(ctx context.Context, opts tclient.StartWorkflowOptions, wf any, arg any) (process.Status, error) {
	for range 3 {
		st, open, err := c.startChecked(ctx, opts, wf, arg)
		if !open {
			return st, err
		}
		desc, err := c.Temporal.DescribeWorkflowExecution(ctx, opts.ID, "")
		if err != nil {
			return st, err
		}
		closed, err := c.waitClosing(ctx, desc.GetWorkflowExecutionInfo())
		if err != nil {
			return st, err
		}
		if !closed {
			break
		}
	}
	return process.Status{}, refused("a process %s is already open", opts.ID)
}

// closingWait bounds how long a start waits for a process that has ended
// and is still storing its last events (workflows.Announcer): a store takes
// milliseconds; only a central database that is down keeps it longer.
const closingWait = 30 * time.Second

// waitClosing waits for the process described by info to close when it has
// ended and only stores its last events, and says whether it did (or had
// closed already: the start may try again); false when it is open for real.
func (c *Client) waitClosing(ctx context.Context, info *workflowpb.WorkflowExecutionInfo) (closed bool, err error) {
	id := info.GetExecution().GetWorkflowId()
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return true, nil
	}
	if !Closing(info) {
		return false, nil
	}
	wctx, cancel := context.WithTimeout(ctx, closingWait)
	defer cancel()
	// The process's own end (completed, failed) does not matter here, only that it closed.
	_ = c.Temporal.GetWorkflow(wctx, id, info.GetExecution().GetRunId()).Get(wctx, nil)
	if wctx.Err() != nil {
		return false, refused("the process %s has ended (%s) and is still storing its last events: "+
			"is the central database down? Try again once it answers", id, keyword(info.GetSearchAttributes().GetIndexedFields(), process.AttrProcessState))
	}
	return true, nil
}

// Closing tells a workflow that runs only to store its last events: its
// process state (the ProcessState search attribute, set as the process
// ends) is an ended one while the workflow is still open.
func Closing(info *workflowpb.WorkflowExecutionInfo) bool {
	return info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING &&
		process.Ended(process.State(keyword(info.GetSearchAttributes().GetIndexedFields(), process.AttrProcessState)))
}

// startChecked is start that tells a process already open (open) apart
// from the other refusals. A worker answers the checked update within
// moments; when none has after queryTimeout and none polls the task queue,
// the start returns ErrNoWorker (the process stays open, and runs once a
// worker comes), else it keeps waiting for the same update.
func (c *Client) startChecked(ctx context.Context, opts tclient.StartWorkflowOptions, wf any, arg any) (st process.Status, open bool, err error) {
	update := tclient.UpdateWorkflowOptions{
		UpdateID: opts.ID + "/checked/" + randomID(), UpdateName: process.UpdateChecked,
		WaitForStage: tclient.WorkflowUpdateStageCompleted,
	}
	first, cancel := context.WithTimeout(ctx, queryTimeout)
	handle, err := c.Temporal.UpdateWithStartWorkflow(first, tclient.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: c.Temporal.NewWithStartWorkflowOperation(opts, wf, arg), UpdateOptions: update,
	})
	cancel()
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
		return st, true, nil
	case err != nil && first.Err() != nil && ctx.Err() == nil:
		if st, serr := c.Status(ctx, opts.ID); errors.Is(serr, ErrNoWorker) {
			return st, false, serr
		}
		update.WorkflowID = opts.ID
		handle, err = c.Temporal.UpdateWorkflow(ctx, update)
	}
	if err != nil {
		return st, false, err
	}
	if err := handle.Get(ctx, &st); err != nil {
		return st, false, err
	}
	if (st.State == process.StateFailed || st.State == process.StateRefused) && len(st.Steps) == 0 {
		return st, false, refused("%s", st.Result[process.ResultError])
	}
	return st, false, nil
}

// randomID tells one start's update apart from another's.
func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// RefusedError is a request the farm turned down (exit code 1): the wiki
// exists, the name is invalid, the user may not act.
type RefusedError struct{ Msg string }

func (e *RefusedError) Error() string { return e.Msg }

func refused(format string, args ...any) error {
	return &RefusedError{Msg: fmt.Sprintf(format, args...)}
}

func (c *Client) startOptions(id, kind, wiki, requester, summary string) tclient.StartWorkflowOptions {
	return tclient.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                c.Config.Temporal.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            summary,
		StaticDetails:            fmt.Sprintf("**%s** of `%s`, requested by %s.\n\nQuery `status` for the steps.", kind, wiki, requester),
		// The policies of the activities outside the step graph, recorded
		// with the start like the definition (see process.MemoRetry).
		Memo: map[string]any{process.MemoRetry: process.NewRetryPolicies(c.Config.Processes.TransientRetryBudget)},
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKindKey.ValueSet(kind),
			workflows.WikiDBKey.ValueSet(wiki),
			workflows.RequesterKey.ValueSet(requester),
			workflows.ProcessStateKey.ValueSet(string(process.StateRunning)),
		),
	}
}

// stewardOptions are the farm's choices for the processes one steward
// approves (a restricted setting change, a restore).
func (c *Client) stewardOptions() workflows.StewardOptions {
	return workflows.StewardOptions{
		CentralWiki: c.Config.MediaWiki.CentralWiki, AttentionWindow: c.Config.Processes.AttentionWindow,
		Expiry: c.Config.Processes.ApprovalExpiry, RetryBudget: c.Config.Processes.TransientRetryBudget,
	}
}

// startOnWiki starts a process on the wiki db, once the name is one a wiki
// could have (an InvalidError otherwise, and nothing starts).
func (c *Client) startOnWiki(ctx context.Context, db, id, kind, requester, summary string, wf, in any) (process.Status, error) {
	if err := ValidateDBName(db); err != nil {
		return process.Status{}, err
	}
	return c.start(ctx, c.startOptions(id, kind, db, requester, summary), wf, in)
}
