package workflows

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/process"
)

// ProcessInput is everything a process needs apart from its workflow ID.
type ProcessInput struct {
	Definition process.Definition `json:"definition"`
	Wiki       process.WikiSpec   `json:"wiki"`
	Requester  string             `json:"requester"`
	Args       map[string]string  `json:"args,omitempty"`
}

// ProcessResult is the final status and what the steps produced.
type ProcessResult struct {
	Status process.Status `json:"status"`
	// Outputs merges the outputs of succeeded steps in definition order: when
	// two steps set the same key, the later step in the definition wins.
	Outputs map[string]string `json:"outputs,omitempty"`
	// StepOutputs keeps them apart, by step name.
	StepOutputs map[string]map[string]string `json:"step_outputs,omitempty"`
}

// Typed search attributes the engine upserts, for lists in the Web UI.
var (
	ProcessKindKey  = temporal.NewSearchAttributeKeyKeyword(process.AttrProcessKind)
	WikiDBKey       = temporal.NewSearchAttributeKeyKeyword(process.AttrWikiDB)
	RequesterKey    = temporal.NewSearchAttributeKeyKeyword(process.AttrRequester)
	ProcessStateKey = temporal.NewSearchAttributeKeyKeyword(process.AttrProcessState)
)

// defaultStartToClose applies to steps that set no StartToClose.
const defaultStartToClose = 10 * time.Minute

// RunProcess runs the step graph of in.Definition inside the calling workflow
// and answers the status query, the retry-step/abort updates and signals
// while it does. It returns when the process has ended.
//
// Semantics:
//   - A step starts when every step it requires has succeeded; ready steps
//     start together, in definition order.
//   - A failed optional step blocks only the steps that require it
//     (transitively); they become pending again when it is retried and succeeds.
//   - A failed critical step puts the process in needs-attention at once:
//     steps not started yet stay pending, except optional ones, which go on.
//     Once every step is done and only optional steps failed, the process
//     also waits in needs-attention.
//   - needs-attention lasts AttentionWindow. retry-step re-runs a failed step
//     (the window starts afresh if the process needs attention again). When
//     the window ends the process ends: failed if a critical step is still
//     failed, completed otherwise. Nothing is undone then: the partial work
//     stays for a person to inspect or to finish by hand.
//   - abort is accepted while the process is open (running or
//     needs-attention): no new step starts, running steps are waited for (an
//     activity cannot be taken back halfway), then the Undo activity of every
//     succeeded step that has one runs, newest first, and the process ends
//     aborted. Cancelling the workflow counts as an abort by "temporal".
//   - Every request is authorized by Definition.Authorize before it changes
//     anything; refusals are recorded in Status.Actions. Once the end is
//     decided, requests still being authorized are refused, and the engine
//     waits for them so each one gets its answer.
//
// A failed process returns its result and a non-retryable ApplicationError
// of type process.ErrTypeFailed whose details hold the same result, so that
// the workflow shows as failed; completed and aborted return no error.
func RunProcess(ctx workflow.Context, in ProcessInput) (ProcessResult, error) {
	return runProcess(ctx, in, nil)
}

// RunSteps is RunProcess for a workflow that has phases before the graph
// (an approval gate, a grace period) and so serves the status query itself:
// the engine reports into st, which the caller's query handler returns.
func RunSteps(ctx workflow.Context, in ProcessInput, st *process.Status) (ProcessResult, error) {
	return runProcess(ctx, in, st)
}

func runProcess(ctx workflow.Context, in ProcessInput, st *process.Status) (ProcessResult, error) {
	if err := in.Definition.Validate(); err != nil {
		return ProcessResult{}, temporal.NewNonRetryableApplicationError(
			"invalid process definition: "+err.Error(), "InvalidDefinition", nil)
	}
	e := newEngine(ctx, in, st)
	if err := e.listen(ctx, st == nil); err != nil {
		return ProcessResult{}, err
	}
	if st != nil { // the caller's frame announces
		return e.finish(ctx, e.run(ctx))
	}
	announcer, _ := ctx.Value(announcerKey{}).(*Announcer)
	if announcer != nil {
		announcer.Follow(e.st)
	} else {
		announcer = Announce(ctx, e.st, &in.Wiki.Private)
	}
	res, err := e.finish(ctx, e.run(ctx))
	announcer.Settle(ctx)
	return res, err
}

// engine is the state of one process. Workflow code runs one coroutine at a
// time, so handlers and step goroutines share it without locks.
type engine struct {
	in      ProcessInput
	steps   []process.StepDef
	index   map[string]int
	st      *process.Status // shared with the caller's query when it serves one
	outputs map[string]map[string]string

	doneOrder []int                                                              // succeeded steps in completion order, for undo
	forced    []bool                                                             // retried by a person: may start although a critical step is failed
	launches  []int                                                              // per step, numbers its activity IDs
	running   int                                                                // step activities in flight
	changed   bool                                                               // something the main loop has to look at
	retries   *Inbox[process.RetryRequest, process.RetryRequest, process.Status] // retry-step update and signal
	aborts    *Inbox[process.AbortRequest, process.AbortRequest, process.Status] // abort update and signal

	abort  *process.AbortRequest // accepted abort
	closed string                // why no request is accepted any more; "" while open
}

func newEngine(ctx workflow.Context, in ProcessInput, st *process.Status) *engine {
	steps := in.Definition.Steps
	if st == nil {
		st = &process.Status{Started: workflow.Now(ctx)}
	}
	st.ID = workflow.GetInfo(ctx).WorkflowExecution.ID
	st.Kind = in.Definition.Kind
	st.State = process.StateRunning
	st.Wiki = in.Wiki.DB
	st.Requester = in.Requester
	if st.Started.IsZero() {
		st.Started = workflow.Now(ctx)
	}
	st.Steps = nil
	e := &engine{
		in:       in,
		steps:    steps,
		index:    make(map[string]int, len(steps)),
		outputs:  map[string]map[string]string{},
		forced:   make([]bool, len(steps)),
		launches: make([]int, len(steps)),
		st:       st,
	}
	for i, s := range steps {
		e.index[s.Name] = i
		e.st.Steps = append(e.st.Steps, process.StepStatus{Name: s.Name, State: process.StepPending, Critical: s.Critical})
	}
	e.upsert(ctx,
		ProcessKindKey.ValueSet(e.st.Kind),
		WikiDBKey.ValueSet(e.st.Wiki),
		RequesterKey.ValueSet(e.st.Requester),
		ProcessStateKey.ValueSet(string(e.st.State)))
	return e
}

// run drives the graph until the end is decided. It returns the context's
// error when the workflow is cancelled.
func (e *engine) run(ctx workflow.Context) error {
	for e.closed == "" {
		if e.abort == nil {
			e.launchReady(ctx)
		}
		e.refresh(ctx)
		var err error
		switch {
		case e.abort != nil:
			if e.running == 0 {
				e.closed = "the process has been aborted"
				continue
			}
			err = e.wait(ctx)
		case e.st.State == process.StateNeedsAttention:
			var expired bool
			if expired, err = e.waitAttention(ctx); expired {
				e.closed = "the attention window has ended"
			}
		case e.running == 0: // nothing failed and nothing is left
			e.closed = "the process has completed"
		default:
			err = e.wait(ctx)
		}
		if err != nil { // only cancellation wakes an Await with an error
			if e.abort == nil {
				e.abort = &process.AbortRequest{User: "temporal", Reason: "workflow cancelled"}
				e.record(process.ActionRecord{User: "temporal", Action: process.ActionAbort,
					Accepted: true, Reason: "workflow cancelled", Time: workflow.Now(ctx)})
			}
			e.closed = "the workflow has been cancelled"
			return err
		}
	}
	return nil
}

// finish waits for what is still in flight, undoes after an abort and
// builds the result.
func (e *engine) finish(ctx workflow.Context, runErr error) (ProcessResult, error) {
	// Disconnected: after a cancellation the cleanup must still run.
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	for e.running > 0 {
		e.refresh(ctx)
		_ = e.wait(ctx)
	}
	if e.abort != nil {
		e.undo(ctx)
	}
	// Requests being authorized get their (negative) answer before we return,
	// and signals still queued are recorded as refused rather than lost.
	_ = workflow.Await(ctx, func() bool { return e.retries.Idle() && e.aborts.Idle() && workflow.AllHandlersFinished(ctx) })
	e.drainSignals(ctx)

	switch {
	case e.abort != nil:
		e.st.State = process.StateAborted
	case e.criticalFailed():
		e.st.State = process.StateFailed
	default:
		e.st.State = process.StateCompleted
	}
	for i := range e.st.Steps {
		if e.st.Steps[i].State == process.StepPending {
			e.st.Steps[i].State = process.StepSkipped
		}
	}
	e.st.Ended = workflow.Now(ctx)
	e.st.AttentionUntil = time.Time{}
	e.upsert(ctx, ProcessStateKey.ValueSet(string(e.st.State)))
	workflow.SetCurrentDetails(ctx, e.details())

	res := ProcessResult{Status: *e.st, Outputs: map[string]string{}, StepOutputs: e.outputs}
	for _, s := range e.steps {
		// Copying entries gives the same map in any order.
		maps.Copy(res.Outputs, e.outputs[s.Name]) //workflowcheck:ignore
	}
	if runErr != nil {
		return res, runErr
	}
	if e.st.State == process.StateFailed {
		return res, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("process %s failed: %s", e.st.Kind, e.failedSummary()), process.ErrTypeFailed, nil, res)
	}
	return res, nil
}

// launchReady starts every step that may start now.
func (e *engine) launchReady(ctx workflow.Context) {
	// Retried steps first: restarting a failed critical step lifts the hold
	// it put on the other critical steps.
	for i := range e.steps {
		if e.forced[i] && e.ready(i) {
			e.launch(ctx, i)
		}
	}
	hold := e.criticalFailed()
	for i, s := range e.steps {
		if e.ready(i) && !(hold && s.Critical) {
			e.launch(ctx, i)
		}
	}
}

// ready: pending and every required step succeeded.
func (e *engine) ready(i int) bool {
	if e.st.Steps[i].State != process.StepPending {
		return false
	}
	for _, r := range e.steps[i].Requires {
		if e.st.Steps[e.index[r]].State != process.StepSucceeded {
			return false
		}
	}
	return true
}

func (e *engine) launch(ctx workflow.Context, i int) {
	def, st := e.steps[i], &e.st.Steps[i]
	st.State, st.Error, st.Summary = process.StepRunning, "", ""
	st.Started, st.Ended = workflow.Now(ctx), time.Time{}
	e.forced[i] = false
	e.launches[i]++
	e.running++
	opts := stepOptions(def, fmt.Sprintf("%s#%d", def.Name, e.launches[i]), def.Name)
	in := e.stepInput(def)
	var local, remote workflow.Future
	if def.Local {
		local = workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, onceLocally(opts)), def.Activity, in)
	} else {
		remote = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), def.Activity, in)
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		var res process.StepResult
		localAttempts := 0
		if local != nil {
			err := local.Get(ctx, &res)
			rest, goOn := continueAsActivity(err, opts)
			if !goOn {
				e.stepEnded(ctx, i, res, err, 1)
				return
			}
			localAttempts, opts = 1, rest
			remote = workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), def.Activity, in)
		}
		err := remote.Get(ctx, &res)
		e.stepEnded(ctx, i, res, err, localAttempts+launchAttempts(res, err, opts.RetryPolicy.MaximumAttempts))
	})
}

// stepEnded records how step i's launch ended, after attempts executions
// of its activity.
func (e *engine) stepEnded(ctx workflow.Context, i int, res process.StepResult, err error, attempts int) {
	def, st := e.steps[i], &e.st.Steps[i]
	st.Ended = workflow.Now(ctx)
	st.Attempts += attempts
	e.running--
	e.changed = true
	if err != nil {
		st.State, st.Error = process.StepFailed, errorText(err)
		workflow.GetLogger(ctx).Warn("step failed", "step", def.Name, "error", err)
		return
	}
	st.State, st.Summary = process.StepSucceeded, res.Summary
	e.outputs[def.Name] = res.Outputs
	e.doneOrder = append(e.doneOrder, i)
}

// undo reverts succeeded steps that have an Undo activity, newest first.
// A failed undo is recorded and the others still run: stopping halfway would
// leave even more behind, and the status tells a person what is left.
func (e *engine) undo(ctx workflow.Context) {
	for k := len(e.doneOrder) - 1; k >= 0; k-- {
		i := e.doneOrder[k]
		def, st := e.steps[i], &e.st.Steps[i]
		if def.Undo == "" {
			continue
		}
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("Aborting: undoing `%s`.", def.Name))
		opts := stepOptions(def, process.UndoIDPrefix+def.Name, "undo "+def.Name)
		err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), def.Undo, e.stepInput(def)).Get(ctx, nil)
		if err != nil {
			st.UndoError = errorText(err)
			workflow.GetLogger(ctx).Error("undo failed", "step", def.Name, "error", err)
			continue
		}
		st.Undone = true
	}
}

func (e *engine) stepInput(def process.StepDef) process.StepInput {
	return process.StepInput{
		ProcessID: e.st.ID,
		Kind:      e.st.Kind,
		Step:      def.Name,
		Wiki:      e.in.Wiki,
		Requester: e.in.Requester,
		Args:      e.in.Args,
		Params:    def.Params,
		Outputs:   maps.Clone(e.outputs), // later steps add keys; this input keeps its own view
	}
}

// refresh derives blocked/pending step states and the process state after
// any change, and shows them in the Web UI.
func (e *engine) refresh(ctx workflow.Context) {
	for i := range e.st.Steps {
		if s := &e.st.Steps[i]; s.State == process.StepPending || s.State == process.StepBlocked {
			s.State = process.StepPending
			if e.blocked(i) {
				s.State = process.StepBlocked
			}
		}
	}
	state := process.StateRunning
	switch {
	case e.abort != nil:
		state = e.st.State // unchanged until the undo is done
	case e.criticalFailed() || (e.running == 0 && e.anyFailed()):
		state = process.StateNeedsAttention
	}
	if state != e.st.State {
		e.st.State = state
		e.st.AttentionUntil = time.Time{}
		if state == process.StateNeedsAttention {
			e.st.AttentionUntil = workflow.Now(ctx).Add(e.in.Definition.AttentionWindow)
		}
		e.upsert(ctx, ProcessStateKey.ValueSet(string(state)))
	}
	workflow.SetCurrentDetails(ctx, e.details())
}

// blocked: some step required by step i, directly or further up, has failed.
func (e *engine) blocked(i int) bool {
	for _, r := range e.steps[i].Requires {
		j := e.index[r]
		switch e.st.Steps[j].State {
		case process.StepFailed:
			return true
		case process.StepPending, process.StepBlocked:
			if e.blocked(j) {
				return true
			}
		case process.StepRunning, process.StepSucceeded, process.StepSkipped: // it may still succeed, or did
		}
	}
	return false
}

func (e *engine) criticalFailed() bool {
	for _, s := range e.st.Steps {
		if s.Critical && s.State == process.StepFailed {
			return true
		}
	}
	return false
}

func (e *engine) anyFailed() bool {
	for _, s := range e.st.Steps {
		if s.State == process.StepFailed {
			return true
		}
	}
	return false
}

// wait blocks until a step finishes or a request is accepted.
func (e *engine) wait(ctx workflow.Context) error {
	err := workflow.Await(ctx, func() bool { return e.changed })
	e.changed = false
	return err
}

// waitAttention is wait bounded by the attention window.
func (e *engine) waitAttention(ctx workflow.Context) (expired bool, err error) {
	left := e.st.AttentionUntil.Sub(workflow.Now(ctx))
	if left <= 0 {
		return true, nil
	}
	ok, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{
		Timeout:      left,
		TimerOptions: workflow.TimerOptions{Summary: "attention window"},
	}, func() bool { return e.changed })
	e.changed = false
	return err == nil && !ok, err
}

func (e *engine) upsert(ctx workflow.Context, attrs ...temporal.SearchAttributeUpdate) {
	if err := workflow.UpsertTypedSearchAttributes(ctx, attrs...); err != nil {
		// Visibility only: the process itself must not fail for it.
		workflow.GetLogger(ctx).Warn("upserting search attributes failed", "error", err)
	}
}

// details is the short markdown the Web UI shows as the current details.
func (e *engine) details() string {
	var running, failed, blocked []string
	for _, s := range e.st.Steps {
		switch s.State {
		case process.StepRunning:
			running = append(running, "`"+s.Name+"`")
		case process.StepFailed:
			kind := "optional"
			if s.Critical {
				kind = "critical"
			}
			failed = append(failed, fmt.Sprintf("`%s` (%s): %s", s.Name, kind, s.Error))
		case process.StepBlocked:
			blocked = append(blocked, "`"+s.Name+"`")
		case process.StepPending, process.StepSucceeded, process.StepSkipped: // nothing to point at
		}
	}
	lines := []string{fmt.Sprintf("**%s** of `%s`: %s", e.st.Kind, e.st.Wiki, e.st.State)}
	if len(running) > 0 {
		lines = append(lines, "Running: "+strings.Join(running, ", "))
	}
	for _, f := range failed {
		lines = append(lines, "Failed: "+f)
	}
	if len(blocked) > 0 {
		lines = append(lines, "Blocked: "+strings.Join(blocked, ", "))
	}
	// Retries are part of what happened: a step that needed more than one
	// attempt says so, also once it succeeded.
	var retried []string
	for _, s := range e.st.Steps {
		if s.Attempts > 1 {
			retried = append(retried, fmt.Sprintf("`%s` %d", s.Name, s.Attempts))
		}
	}
	if len(retried) > 0 {
		lines = append(lines, "Attempts: "+strings.Join(retried, ", "))
	}
	switch {
	case e.abort != nil && e.st.Ended.IsZero():
		lines = append(lines, fmt.Sprintf("Aborting (asked by %s): waiting for running steps, then undoing.", e.abort.User))
	case e.closed != "" && e.st.Ended.IsZero():
		lines = append(lines, "Ending: waiting for running steps.")
	case e.st.State == process.StateNeedsAttention:
		lines = append(lines, fmt.Sprintf("Waiting for a person until %s UTC: retry a failed step or abort.",
			e.st.AttentionUntil.UTC().Format("2006-01-02 15:04")))
	}
	return strings.Join(lines, "\n\n")
}

func (e *engine) failedSummary() string {
	var parts []string
	for _, s := range e.st.Steps {
		if s.State == process.StepFailed {
			parts = append(parts, fmt.Sprintf("step %s: %s", s.Name, s.Error))
		}
	}
	return strings.Join(parts, "; ")
}

// stepOptions are the activity options of a step (or its undo). A step
// with a retry budget is retried without an attempt limit until the budget
// is spent (its ScheduleToClose timeout); one without keeps its attempts.
func stepOptions(def process.StepDef, id, summary string) workflow.ActivityOptions {
	timeout := def.StartToClose
	if timeout == 0 {
		timeout = defaultStartToClose
	}
	return workflow.ActivityOptions{
		ActivityID:             id, // "<step>#<launch>": readable in the history
		StartToCloseTimeout:    timeout,
		ScheduleToCloseTimeout: scheduleToClose(def.Retry, timeout),
		HeartbeatTimeout:       def.Heartbeat,
		RetryPolicy:            retryPolicy(def.Retry),
		Summary:                summary,
	}
}

// onceLocally are the options of a local step's or check's one local
// attempt: the activity's timeout and summary, no retry. A failure worth
// retrying sends it on as an activity (continueAsActivity), so that its retries
// during an outage are the server's: counted, shown with their last failure
// in the status and the Web UI, and carried over to another worker.
func onceLocally(o workflow.ActivityOptions) workflow.LocalActivityOptions {
	return workflow.LocalActivityOptions{
		StartToCloseTimeout: o.StartToCloseTimeout, Summary: o.Summary,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1},
	}
}

// continueAsActivity tells whether a local attempt that ended with err goes
// on as an activity, and with which options. It does when the failure is one
// the activity's retry policy would retry (an outage, most likely: not a
// non-retryable application error, not a cancellation) and attempts are
// left: the local one counts against MaximumAttempts, a budget is
// unchanged. The activity's retries are then the server's, shown in the
// status and the Web UI.
func continueAsActivity(err error, o workflow.ActivityOptions) (workflow.ActivityOptions, bool) {
	var app *temporal.ApplicationError
	var canceled *temporal.CanceledError
	switch {
	case err == nil, errors.As(err, &canceled):
		return o, false
	case errors.As(err, &app) && app.NonRetryable():
		return o, false
	case o.RetryPolicy == nil || o.RetryPolicy.MaximumAttempts == 0:
		return o, true
	case o.RetryPolicy.MaximumAttempts == 1:
		return o, false
	}
	rp := *o.RetryPolicy
	rp.MaximumAttempts--
	o.RetryPolicy = &rp
	return o, true
}

// errorText is the part of an activity error a person needs to read.
func errorText(err error) string {
	var app *temporal.ApplicationError
	var timeout *temporal.TimeoutError
	var canceled *temporal.CanceledError
	switch {
	case errors.As(err, &app):
		return app.Message()
	case errors.As(err, &timeout):
		return "timed out: " + timeout.TimeoutType().String()
	case errors.As(err, &canceled):
		return "cancelled"
	}
	// A local activity's plain error is not converted to an application
	// error before it reaches the workflow: its own text, without the
	// activity wrapper's.
	var act *temporal.ActivityError
	if errors.As(err, &act) && errors.Unwrap(act) != nil {
		return errors.Unwrap(act).Error()
	}
	return err.Error()
}
