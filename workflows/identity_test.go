package workflows_test

import (
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

// People are who MediaWiki says they are: the fake's aliases stand for the
// spellings MediaWiki's title rules fold into one account (first letter,
// underscores, spaces, directional marks), so these tests hold whatever the
// spelling rules are, because the workflow never applies any of its own.

func TestGateCountsOnePersonOnceWhateverTheSpelling(t *testing.T) {
	f := workflowtest.GateFarm().Alias("Alice", "alice").Alias("alice_", "alice").Alias(" alice", "alice")
	env := workflowtest.NewGateEnv(t, f)
	var again []*workflowtest.Upd
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "d1", process.DecisionApprove, "alice", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		for i, spelling := range []string{"Alice", "alice_", " alice"} {
			again = append(again, workflowtest.Decide(env, "d"+string(rune('2'+i)), process.DecisionApprove, spelling, ""))
		}
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		workflowtest.DecideWhileWaiting(t, env, "after one person approved four times (the quorum of two is still open)", "d9", process.DecisionApprove, "bob", "")
	}, 3*time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})

	for _, u := range again {
		workflowtest.WantRefused(t, "the same bureaucrat under another spelling", u, "alice has already approved")
	}
	workflowtest.WantClosed(t, res, process.StateApproved, 3*time.Hour, "only once bob came")
	for _, r := range res.Status.Approvals {
		if r.User != "alice" && r.User != "bob" {
			t.Errorf("record %+v: want the canonical name, not the spelling sent", r)
		}
		if r.UserID != f.IDOf(r.User) {
			t.Errorf("record %+v: want the central id %d", r, f.IDOf(r.User))
		}
	}
}

func TestGateRefusesTheRequesterUnderAnotherSpelling(t *testing.T) {
	// The requester is a steward too: their own override is still theirs.
	f := workflowtest.GateFarm().Alias("Req", "req").Alias("req_", "req")
	f.Grant("req", workflowtest.Steward, workflowtest.Central)
	env := workflowtest.NewGateEnv(t, f)
	var disguised, underscore *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		disguised = workflowtest.Decide(env, "d1", process.DecisionApprove, "Req", "")
		underscore = workflowtest.Decide(env, "d2", process.DecisionApprove, "req_", "")
	}, time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})

	workflowtest.WantRefused(t, "the requester with a capital", disguised, "the requester may not approve their own request")
	workflowtest.WantRefused(t, "the requester with an underscore", underscore, "the requester may not approve their own request")
	workflowtest.WantOutcome(t, res, process.StateExpired, "(nobody else approved)")
	workflowtest.WantRecords(t, res.Status.Approvals,
		workflowtest.Rec("req", process.DecisionApprove, false, "the requester may not approve their own request"),
		workflowtest.Rec("req", process.DecisionApprove, false, "the requester may not approve their own request"))
}

func TestGateLatestDecisionOfAPersonReplacesTheEarlierOne(t *testing.T) {
	f := workflowtest.GateFarm().Alias("Alice", "alice")
	env := workflowtest.NewGateEnv(t, f)
	var changed *workflowtest.Upd
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "d1", process.DecisionDecline, "alice", "not yet") }, time.Hour)
	env.RegisterDelayedCallback(func() { changed = workflowtest.Decide(env, "d2", process.DecisionApprove, "Alice", "convinced") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		// alice's decline no longer counts: one decline of two.
		workflowtest.Decide(env, "d3", process.DecisionDecline, "bob", "")
	}, 3*time.Hour)
	env.RegisterDelayedCallback(func() {
		workflowtest.DecideWhileWaiting(t, env, "after alice changed her mind (it must not count as a decline)", "d4", process.DecisionApprove, "carol", "")
	}, 4*time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})

	workflowtest.WantAccepted(t, "alice changing her mind", changed)
	workflowtest.WantClosed(t, res, process.StateApproved, 4*time.Hour, "by alice and carol")
	got := res.Status.Approvals
	workflowtest.WantRecords(t, got,
		workflowtest.Rec("alice", process.DecisionDecline, true, ""),
		workflowtest.Rec("alice", process.DecisionApprove, true, ""),
		workflowtest.Rec("bob", process.DecisionDecline, true, ""),
		workflowtest.Rec("carol", process.DecisionApprove, true, ""))
	if !got[0].Replaced || got[1].Replaced || got[2].Replaced || got[3].Replaced {
		t.Errorf("records %+v: only alice's first decision is replaced", got)
	}
}

func TestGateRefusesANameWithNoAccount(t *testing.T) {
	f := workflowtest.GateFarm()
	f.NoAccount["ghost"] = true
	env := workflowtest.NewGateEnv(t, f)
	var ghost *workflowtest.Upd
	env.RegisterDelayedCallback(func() { ghost = workflowtest.Decide(env, "d1", process.DecisionApprove, "ghost", "") }, time.Hour)
	res := workflowtest.RunGate(t, env, workflowtest.GateInput{Policy: workflowtest.GatePolicy()})
	workflowtest.WantRefused(t, "a name with no account", ghost, "ghost has no account")
	if res.Outcome != process.StateExpired || len(res.Status.Approvals) != 1 {
		t.Fatalf("outcome %s records %+v", res.Outcome, res.Status.Approvals)
	}
}

// A requester with no account is refused by every process that a
// requester starts, before anything is written or run.
func TestRequesterWithNoAccountIsRefused(t *testing.T) {
	cases := map[string]struct{ workflow, input any }{
		"delete-wiki":    {deletewiki.DeleteWiki, workflowtest.DeleteInput(workflowtest.Wiki, "req", "spam wiki", workflowtest.DeleteOptions())},
		"change-setting": {changesetting.ChangeSetting, workflowtest.SettingInput("req", "long pages")},
		"request-wiki":   {requestwiki.RequestWiki, workflowtest.RequestInput()},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := workflowtest.DeleteFarm()
			f.NoAccount["req"] = true
			env := workflowtest.NewEnv(t, f, append([]any{deletewiki.DeleteWiki, changesetting.ChangeSetting}, workflowtest.RequestWorkflows...))
			env.ExecuteWorkflow(c.workflow, c.input)
			st := workflowtest.WantProcessRefused(t, env, "req has no account")
			if len(st.Approvals) != 0 || f.Called(deletewiki.NameCloseWiki) != 0 || f.Called(changesetting.NameApplySetting) != 0 {
				t.Errorf("something ran for a requester with no account: %v", f.Calls)
			}
			if strings.Contains(strings.Join(f.Calls, " "), requestwiki.NameUpdateRequest) {
				t.Errorf("a request with no account was written: %v", f.Calls)
			}
		})
	}
}
