package workflows_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

// wantRequesterCheckedOnce checks that the rights of the requester were
// checked once, to learn who it is: what they decided needs no more.
func wantRequesterCheckedOnce(t *testing.T, f *workflowtest.Farm, what string) {
	t.Helper()
	if n := f.ChecksOf("req"); n != 1 {
		t.Errorf("%s was checked %d times; want once, to learn who it is", what, n)
	}
}

// gateWithSignal runs a gate that gets one decision, by signal an hour in.
func gateWithSignal(t *testing.T, signal, user, comment string) workflowtest.GateResult {
	t.Helper()
	env := workflowtest.NewGateEnv(t, workflowtest.GateFarm())
	env.RegisterDelayedCallback(func() { workflowtest.Signal(env, signal, user, comment) }, time.Hour)
	return workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})
}

func TestGateQuorumOfDistinctApprovers(t *testing.T) {
	f := workflowtest.GateFarm()
	env := workflowtest.NewGateEnv(t, f)
	var first *workflowtest.Upd
	env.RegisterDelayedCallback(func() { first = workflowtest.Decide(env, "d1", process.DecisionApprove, "alice", "fine") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateWaitingApproval || len(st.Approvals) != 1 || !st.Approvals[0].Accepted {
			t.Errorf("after one of two approvals: state %s, approvals %+v; want still waiting", st.State, st.Approvals)
		}
	}, 90*time.Minute)
	env.RegisterDelayedCallback(func() { workflowtest.Signal(env, process.SignalApprove, "bob", "") }, 2*time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})

	workflowtest.WantAccepted(t, "alice's approval", first)
	if r, ok := first.Result.(process.Decided); !ok || !r.Accepted || r.User != "alice" || r.Comment != "fine" ||
		r.Status == nil || len(r.Status.Approvals) != 1 || r.Status.State != process.StateWaitingApproval {
		t.Errorf("update result %#v: want alice's record and the status it left (one approval, still waiting)", first.Result)
	}
	if res.Outcome != process.StateApproved || res.Status.State != process.StateApproved {
		t.Fatalf("outcome %s, want approved", res.Outcome)
	}
	if d := workflowtest.Elapsed(res.Status, res.Status.Ended); d != 2*time.Hour {
		t.Errorf("closed after %v, want 2h (the second approval)", d)
	}
	workflowtest.WantRecords(t, res.Status.Approvals,
		workflowtest.Rec("alice", process.DecisionApprove, true, ""),
		workflowtest.Rec("bob", process.DecisionApprove, true, ""))
	// Rights were checked with MediaWiki: the steward right first, then the
	// approver right on the process's wiki.
	want := process.AuthorizeInput{User: "alice", Wiki: workflowtest.Wiki, AnyRight: []process.Right{workflowtest.Right}}
	if !slices.ContainsFunc(f.Authz, func(a process.AuthorizeInput) bool {
		return a.User == want.User && a.Wiki == want.Wiki && slices.Equal(a.AnyRight, want.AnyRight)
	}) {
		t.Errorf("no rights check %+v in %+v", want, f.Authz)
	}
}

func TestGateOverrideApprovesAtOnce(t *testing.T) {
	f := workflowtest.GateFarm()
	env := workflowtest.NewGateEnv(t, f)
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() { u = workflowtest.Decide(env, "d1", process.DecisionApprove, "steward", "urgent") }, time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})

	workflowtest.WantAccepted(t, "steward's approval", u)
	workflowtest.WantOutcome(t, res, process.StateApproved, "by one steward despite a quorum of 2")
	workflowtest.WantRecords(t, res.Status.Approvals, process.ApprovalRecord{User: "steward", Decision: process.DecisionApprove, Accepted: true, Override: true})
	if r := res.Status.Approvals[0]; r.Comment != "urgent" || workflowtest.Elapsed(res.Status, r.Time) != time.Hour {
		t.Errorf("record %+v: want the comment and the decision's time", r)
	}
	if c := f.DecisionChecks(); len(c) != 1 || c[0].Wiki != workflowtest.Central || !slices.Equal(c[0].AnyRight, []process.Right{workflowtest.Steward}) {
		t.Errorf("rights checks %+v, want one for managewiki-restricted on the central wiki", c)
	}
}

func TestGateRefusesSelfDuplicateAndUnauthorised(t *testing.T) {
	f := workflowtest.GateFarm()
	env := workflowtest.NewGateEnv(t, f)
	var self, alice, dup, mallory *workflowtest.Upd
	env.RegisterDelayedCallback(func() { self = workflowtest.Decide(env, "d1", process.DecisionApprove, "req", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { alice = workflowtest.Decide(env, "d2", process.DecisionApprove, "alice", "") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() { dup = workflowtest.Decide(env, "d3", process.DecisionApprove, "alice", "again") }, 3*time.Hour)
	env.RegisterDelayedCallback(func() { mallory = workflowtest.Decide(env, "d4", process.DecisionApprove, "mallory", "") }, 4*time.Hour)
	env.RegisterDelayedCallback(func() {
		workflowtest.WantWaiting(t, env, "after refusals")
		workflowtest.Signal(env, process.SignalApprove, "bob", "")
	}, 5*time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})

	workflowtest.WantRefused(t, "self-approval", self, "the requester may not approve their own request")
	workflowtest.WantAccepted(t, "alice", alice)
	workflowtest.WantRefused(t, "duplicate", dup, "alice has already approved")
	workflowtest.WantRefused(t, "unauthorised", mallory, workflowtest.DeniedReason("mallory", workflowtest.Wiki, []process.Right{workflowtest.Right}))
	workflowtest.WantClosed(t, res, process.StateApproved, 5*time.Hour, "by alice and bob")
	workflowtest.WantRecords(t, res.Status.Approvals,
		workflowtest.Rec("req", process.DecisionApprove, false, "the requester may not approve their own request"),
		workflowtest.Rec("alice", process.DecisionApprove, true, ""),
		workflowtest.Rec("alice", process.DecisionApprove, false, "alice has already approved"),
		workflowtest.Rec("mallory", process.DecisionApprove, false, workflowtest.DeniedReason("mallory", workflowtest.Wiki, []process.Right{workflowtest.Right})),
		workflowtest.Rec("bob", process.DecisionApprove, true, ""))
	wantRequesterCheckedOnce(t, f, "the requester's own approval")
}

func TestGateExpires(t *testing.T) {
	res := gateWithSignal(t, process.SignalApprove, "alice", "")
	workflowtest.WantOutcome(t, res, process.StateExpired, "after the week of the policy")
	if d := workflowtest.Elapsed(res.Status, res.Status.Ended); d != 7*24*time.Hour {
		t.Errorf("expired after %v, want the 7 days of the policy", d)
	}
	workflowtest.WantRecords(t, res.Status.Approvals, workflowtest.Rec("alice", process.DecisionApprove, true, ""))
}

func TestGateTwoDeclinesEndIt(t *testing.T) {
	f := workflowtest.GateFarm()
	env := workflowtest.NewGateEnv(t, f)
	var again *workflowtest.Upd
	env.RegisterDelayedCallback(func() { workflowtest.Signal(env, process.SignalDecline, "alice", "no") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		again = workflowtest.DecideWhileWaiting(t, env, "after one decline of two", "d1", process.DecisionDecline, "alice", "still no")
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		workflowtest.DecideWhileWaiting(t, env, "after a repeated decline", "d2", process.DecisionDecline, "bob", "")
	}, 3*time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})

	workflowtest.WantRefused(t, "second decline by alice", again, "alice has already declined")
	workflowtest.WantClosed(t, res, process.StateDeclined, 3*time.Hour, "by alice and bob")
	workflowtest.WantRecords(t, res.Status.Approvals,
		workflowtest.Rec("alice", process.DecisionDecline, true, ""),
		workflowtest.Rec("alice", process.DecisionDecline, false, "alice has already declined"),
		workflowtest.Rec("bob", process.DecisionDecline, true, ""))
}

func TestGateCancel(t *testing.T) {
	f := workflowtest.GateFarm()
	env := workflowtest.NewGateEnv(t, f)
	var stranger, requester *workflowtest.Upd
	env.RegisterDelayedCallback(func() { stranger = workflowtest.Decide(env, "c1", process.DecisionCancel, "mallory", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		requester = workflowtest.DecideWhileWaiting(t, env, "after a refused cancel", "c2", process.DecisionCancel, "req", "changed my mind")
	}, 2*time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})

	const why = "only the requester or a holder of " + string(workflowtest.Steward) + " may cancel"
	workflowtest.WantRefused(t, "cancel by a stranger", stranger, why)
	workflowtest.WantAccepted(t, "cancel by the requester", requester)
	workflowtest.WantClosed(t, res, process.StateCancelled, 2*time.Hour, "by the requester")
	workflowtest.WantRecords(t, res.Status.Approvals,
		workflowtest.Rec("mallory", process.DecisionCancel, false, why),
		workflowtest.Rec("req", process.DecisionCancel, true, ""))
	wantRequesterCheckedOnce(t, f, "the requester's cancel")
}

func TestGateStewardMayCancel(t *testing.T) {
	res := gateWithSignal(t, process.SignalCancel, "steward", "spam")
	workflowtest.WantOutcome(t, res, process.StateCancelled, "by the steward")
	workflowtest.WantRecords(t, res.Status.Approvals, process.ApprovalRecord{User: "steward", Decision: process.DecisionCancel, Accepted: true, Override: true})
}

func TestGateDecisionsAfterCloseAreRefused(t *testing.T) {
	f := workflowtest.GateFarm()
	env := workflowtest.NewGateEnv(t, f)
	var late *workflowtest.Upd
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "d1", process.DecisionApprove, "steward", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { late = workflowtest.Decide(env, "d2", process.DecisionApprove, "alice", "") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() { workflowtest.Signal(env, process.SignalDecline, "bob", "too late") }, 3*time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy(), Linger: 24 * time.Hour})

	const closed = "the approval is closed (approved)"
	workflowtest.WantRefused(t, "approval after the close", late, closed)
	workflowtest.WantOutcome(t, res, process.StateApproved, "by the steward's override")
	workflowtest.WantRecords(t, res.Status.Approvals,
		process.ApprovalRecord{User: "steward", Decision: process.DecisionApprove, Accepted: true, Override: true},
		workflowtest.Rec("alice", process.DecisionApprove, false, closed),
		workflowtest.Rec("bob", process.DecisionDecline, false, closed))
	if res.Status.Approvals[2].Comment != "too late" {
		t.Errorf("the late signal's comment was lost: %+v", res.Status.Approvals[2])
	}
	if f.Asked("alice") || f.Asked("bob") {
		t.Error("decisions after the close need no rights check")
	}
}

// Signals that arrive together with the closing decision are recorded as
// refused, not lost, even when the workflow ends right away.
func TestGateSignalsQueuedAtCloseAreRecorded(t *testing.T) {
	f := workflowtest.GateFarm()
	env := workflowtest.NewGateEnv(t, f)
	env.RegisterDelayedCallback(func() {
		workflowtest.Signal(env, process.SignalApprove, "steward", "")
		workflowtest.Signal(env, process.SignalApprove, "alice", "")
		workflowtest.Signal(env, process.SignalApprove, "bob", "")
	}, time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})

	const closed = "the approval is closed (approved)"
	workflowtest.WantRecords(t, res.Status.Approvals,
		process.ApprovalRecord{User: "steward", Decision: process.DecisionApprove, Accepted: true, Override: true},
		workflowtest.Rec("alice", process.DecisionApprove, false, closed),
		workflowtest.Rec("bob", process.DecisionApprove, false, closed))
}

func TestGateSignalIsRecordedLikeAnUpdate(t *testing.T) {
	f := workflowtest.GateFarm()
	env := workflowtest.NewGateEnv(t, f)
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() { workflowtest.Signal(env, process.SignalApprove, "alice", "by the hook") }, time.Hour)
	env.RegisterDelayedCallback(func() { u = workflowtest.Decide(env, "d1", process.DecisionApprove, "bob", "by the CLI") }, 2*time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})

	workflowtest.WantAccepted(t, "bob", u)
	workflowtest.WantOutcome(t, res, process.StateApproved, "by alice and bob")
	a, b := res.Status.Approvals[0], res.Status.Approvals[1]
	if a.User != "alice" || a.Comment != "by the hook" || b.User != "bob" || b.Comment != "by the CLI" {
		t.Fatalf("records %+v", res.Status.Approvals)
	}
	// Apart from who, when and the comment, the two records are alike.
	a.User, a.UserID, a.Comment, a.Time = b.User, b.UserID, b.Comment, b.Time
	if a != b {
		t.Errorf("signal record %+v differs from update record %+v", a, b)
	}
	if workflowtest.Elapsed(res.Status, res.Status.Approvals[0].Time) != time.Hour {
		t.Errorf("signal recorded at %v, want 1h", workflowtest.Elapsed(res.Status, res.Status.Approvals[0].Time))
	}
}

func TestGateValidatorRejectsWithoutRecord(t *testing.T) {
	f := workflowtest.GateFarm()
	env := workflowtest.NewGateEnv(t, f)
	var unknown, noUser *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		unknown = workflowtest.Decide(env, "v1", "veto", "alice", "")
		noUser = workflowtest.Decide(env, "v2", process.DecisionApprove, "", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := workflowtest.QueryStatus(t, env); len(st.Approvals) != 0 {
			t.Errorf("rejected updates left records: %+v", st.Approvals)
		}
		workflowtest.Decide(env, "c1", process.DecisionCancel, "req", "")
	}, 2*time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})

	if unknown.Rejected == nil || !strings.Contains(unknown.Rejected.Error(), `unknown decision "veto"`) || unknown.Done {
		t.Errorf("unknown action: rejected %v done %v", unknown.Rejected, unknown.Done)
	}
	if noUser.Rejected == nil || !strings.Contains(noUser.Rejected.Error(), "a decision needs a user") || noUser.Done {
		t.Errorf("no user: rejected %v done %v", noUser.Rejected, noUser.Done)
	}
	workflowtest.WantRecords(t, res.Status.Approvals, workflowtest.Rec("req", process.DecisionCancel, true, ""))
	if c := f.DecisionChecks(); len(c) != 1 || c[0].User != "req" {
		t.Errorf("rights checks %+v, want only the accepted cancel's", c)
	}
}

// A decision whose rights check is still running when the gate expires
// must not count, nor be reported accepted: the process has already ended
// as expired.
//
// Bug: Gate.decide applies the judgement without looking at g.outcome
// again after the CheckRights activity, so the late approval is recorded
// accepted, the update answers success and g.outcome flips from expired to
// approved (later refusals then say "closed (approved)").
func TestGateDecisionInFlightAtExpiryIsRefused(t *testing.T) {
	f := workflowtest.GateFarm()
	env := workflowtest.NewGateEnv(t, f, workflowtest.SlowRights("alice", 2*time.Hour))
	policy := workflowtest.GatePolicy()
	policy.Quorum, policy.Expiry = 1, 24*time.Hour
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() { u = workflowtest.Decide(env, "d1", process.DecisionApprove, "alice", "") }, 23*time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: policy})

	workflowtest.WantOutcome(t, res, process.StateExpired, "while alice's check ran")
	workflowtest.WantRefused(t, "approval checked past the expiry", u, "the approval is closed (expired)")
	workflowtest.WantRecords(t, res.Status.Approvals, workflowtest.Rec("alice", process.DecisionApprove, false, "the approval is closed (expired)"))
}

// A decision sent by signal whose rights check is still running when the
// workflow ends must still be recorded ("no signal is lost").
//
// Bug: AllHandlersFinished only tracks update handlers; the signal
// goroutines of the gate are not waited for, and Drain only sees signals
// still in the channels.
func TestGateSignalInFlightAtEndIsRecorded(t *testing.T) {
	f := workflowtest.GateFarm()
	env := workflowtest.NewGateEnv(t, f, workflowtest.SlowRights("alice", 2*time.Hour))
	policy := workflowtest.GatePolicy()
	policy.Expiry = 24 * time.Hour
	env.RegisterDelayedCallback(func() { workflowtest.Signal(env, process.SignalApprove, "alice", "") }, 23*time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: policy})

	workflowtest.WantOutcome(t, res, process.StateExpired, "while alice's signal was checked")
	if len(res.Status.Approvals) != 1 || res.Status.Approvals[0].User != "alice" || res.Status.Approvals[0].Accepted {
		t.Errorf("records:\n%s want alice's approval recorded as refused", workflowtest.FormatRecords(res.Status.Approvals))
	}
}
