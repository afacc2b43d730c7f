package workflowtest

import (
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
)

// GateInput is what GateWorkflow runs a gate with.
type GateInput struct {
	Policy    process.ApprovalPolicy
	Requester string
	// Linger keeps the workflow running this long after the gate closed,
	// to send it decisions that come too late.
	Linger time.Duration
}

// GateResult is how the gate closed and the status it left.
type GateResult struct {
	Outcome process.State
	Status  process.Status
}

// GateWorkflow only runs a gate on Wiki, to test the gate alone.
func GateWorkflow(ctx workflow.Context, in GateInput) (GateResult, error) {
	st := &process.Status{
		ID: workflow.GetInfo(ctx).WorkflowExecution.ID, Kind: "gate-test", State: process.StateRunning,
		Wiki: Wiki, Requester: in.Requester, Started: workflow.Now(ctx),
	}
	if err := workflow.SetQueryHandler(ctx, process.QueryStatus, func() (process.Status, error) { return *st, nil }); err != nil {
		return GateResult{}, err
	}
	requester := process.Person{Name: in.Requester}
	if workflows.KnowsPeople(ctx) {
		var who process.AuthorizeResult
		err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "who"), activities.NameCheckRights,
			process.AuthorizeInput{User: in.Requester, Wiki: Wiki}).Get(ctx, &who)
		if err != nil {
			return GateResult{}, err
		}
		requester = process.Person{Name: who.User, ID: who.UserID}
	}
	g, err := workflows.NewGate(ctx, in.Policy, Wiki, requester, st)
	if err != nil {
		return GateResult{}, err
	}
	outcome, err := g.Wait(ctx)
	if err != nil {
		return GateResult{}, err
	}
	st.State = outcome
	if in.Linger > 0 {
		if err := workflow.Sleep(ctx, in.Linger); err != nil {
			return GateResult{}, err
		}
	}
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	g.Drain(ctx)
	st.Ended = workflow.Now(ctx)
	return GateResult{Outcome: outcome, Status: *st}, nil
}

// GatePolicy: two local holders of managewiki-core, or one steward; two
// declines end it; a week to decide.
func GatePolicy() process.ApprovalPolicy {
	return process.ApprovalPolicy{
		Quorum: 2, Right: Right, OverrideRight: Steward, OverrideWiki: Central,
		DeclinesToEnd: 2, Expiry: 7 * 24 * time.Hour, Authorize: activities.NameCheckRights,
	}
}

// NewGateEnv is NewEnv for GateWorkflow.
func NewGateEnv(t *testing.T, f *Farm, delays ...Delay) *Env {
	t.Helper()
	return NewEnv(t, f, []any{GateWorkflow}, delays...)
}

// RunGate runs GateWorkflow (the requester is "req" unless in names one)
// and returns its result; the workflow must complete without error.
func RunGate(t *testing.T, env *Env, in GateInput) GateResult {
	t.Helper()
	if in.Requester == "" {
		in.Requester = "req"
	}
	env.ExecuteWorkflow(GateWorkflow, in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	var res GateResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatalf("result: %v", err)
	}
	return res
}

// WantOutcome checks that the gate closed as want; why says by whom or
// why, for the message.
func WantOutcome(t *testing.T, res GateResult, want process.State, why string) {
	t.Helper()
	if res.Outcome != want {
		t.Fatalf("outcome %s, want %s %s", res.Outcome, want, why)
	}
}

// WantClosed checks that the gate closed as want, at after the start; why
// says by whom, for the message.
func WantClosed(t *testing.T, res GateResult, want process.State, at time.Duration, why string) {
	t.Helper()
	if got := Elapsed(res.Status, res.Status.Ended); res.Outcome != want || got != at {
		t.Fatalf("outcome %s at %v, want %s %s at %v", res.Outcome, got, want, why, at)
	}
}
