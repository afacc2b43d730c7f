package workflows

import (
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

// People are who MediaWiki says they are: the fake's aliases stand for the
// spellings MediaWiki's title rules fold into one account (first letter,
// underscores, spaces, directional marks), so these tests hold whatever the
// spelling rules are, because the workflow never applies any of its own.

func TestGateCountsOnePersonOnceWhateverTheSpelling(t *testing.T) {
	f := gateFake().alias("Alice", "alice").alias("alice_", "alice").alias(" alice", "alice")
	env := newGateEnv(t, f)
	var again []*upd
	env.RegisterDelayedCallback(func() { decide(env, "d1", process.DecisionApprove, "alice", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		for i, spelling := range []string{"Alice", "alice_", " alice"} {
			again = append(again, decide(env, "d"+string(rune('2'+i)), process.DecisionApprove, spelling, ""))
		}
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := queryStatus(t, env); st.State != process.StateWaitingApproval {
			t.Errorf("state %s after one person approved four times, want the quorum of two still open", st.State)
		}
		decide(env, "d9", process.DecisionApprove, "bob", "")
	}, 3*time.Hour)
	res := runGate(t, env, gateInput{Policy: gatePolicy()})

	for _, u := range again {
		wantRefused(t, "the same bureaucrat under another spelling", u, "alice has already approved")
	}
	if res.Outcome != process.StateApproved || elapsed(res.Status, res.Status.Ended) != 3*time.Hour {
		t.Fatalf("outcome %s at %v, want approved only once bob came at 3h", res.Outcome, elapsed(res.Status, res.Status.Ended))
	}
	for _, r := range res.Status.Approvals {
		if r.User != "alice" && r.User != "bob" {
			t.Errorf("record %+v: want the canonical name, not the spelling sent", r)
		}
		if r.UserID != f.idOf(r.User) {
			t.Errorf("record %+v: want the central id %d", r, f.idOf(r.User))
		}
	}
}

func TestGateRefusesTheRequesterUnderAnotherSpelling(t *testing.T) {
	// The requester is a steward too: their own override is still theirs.
	f := gateFake().alias("Req", "req").alias("req_", "req")
	f.grant("req", gwSteward, gwCentral)
	env := newGateEnv(t, f)
	var disguised, underscore *upd
	env.RegisterDelayedCallback(func() {
		disguised = decide(env, "d1", process.DecisionApprove, "Req", "")
		underscore = decide(env, "d2", process.DecisionApprove, "req_", "")
	}, time.Hour)
	res := runGate(t, env, gateInput{Policy: gatePolicy()})

	wantRefused(t, "the requester with a capital", disguised, "the requester may not approve their own request")
	wantRefused(t, "the requester with an underscore", underscore, "the requester may not approve their own request")
	if res.Outcome != process.StateExpired {
		t.Fatalf("outcome %s, want expired: nobody else approved", res.Outcome)
	}
	wantRecords(t, res.Status.Approvals,
		rec("req", process.DecisionApprove, false, "the requester may not approve their own request"),
		rec("req", process.DecisionApprove, false, "the requester may not approve their own request"))
}

func TestGateLatestDecisionOfAPersonReplacesTheEarlierOne(t *testing.T) {
	f := gateFake().alias("Alice", "alice")
	env := newGateEnv(t, f)
	var changed *upd
	env.RegisterDelayedCallback(func() { decide(env, "d1", process.DecisionDecline, "alice", "not yet") }, time.Hour)
	env.RegisterDelayedCallback(func() { changed = decide(env, "d2", process.DecisionApprove, "Alice", "convinced") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		// alice's decline no longer counts: one decline of two.
		decide(env, "d3", process.DecisionDecline, "bob", "")
	}, 3*time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := queryStatus(t, env); st.State != process.StateWaitingApproval {
			t.Errorf("state %s: alice's changed mind must not count as a decline", st.State)
		}
		decide(env, "d4", process.DecisionApprove, "carol", "")
	}, 4*time.Hour)
	res := runGate(t, env, gateInput{Policy: gatePolicy()})

	wantAccepted(t, "alice changing her mind", changed)
	if res.Outcome != process.StateApproved || elapsed(res.Status, res.Status.Ended) != 4*time.Hour {
		t.Fatalf("outcome %s at %v, want approved by alice and carol at 4h", res.Outcome, elapsed(res.Status, res.Status.Ended))
	}
	got := res.Status.Approvals
	wantRecords(t, got,
		rec("alice", process.DecisionDecline, true, ""),
		rec("alice", process.DecisionApprove, true, ""),
		rec("bob", process.DecisionDecline, true, ""),
		rec("carol", process.DecisionApprove, true, ""))
	if !got[0].Replaced || got[1].Replaced || got[2].Replaced || got[3].Replaced {
		t.Errorf("records %+v: only alice's first decision is replaced", got)
	}
}

func TestGateRefusesANameWithNoAccount(t *testing.T) {
	f := gateFake()
	f.noAccount["ghost"] = true
	env := newGateEnv(t, f)
	var ghost *upd
	env.RegisterDelayedCallback(func() { ghost = decide(env, "d1", process.DecisionApprove, "ghost", "") }, time.Hour)
	res := runGate(t, env, gateInput{Policy: gatePolicy()})
	wantRefused(t, "a name with no account", ghost, "ghost has no account")
	if res.Outcome != process.StateExpired || len(res.Status.Approvals) != 1 {
		t.Fatalf("outcome %s records %+v", res.Outcome, res.Status.Approvals)
	}
}

func TestDeleteWikiRecordsTheCanonicalRequester(t *testing.T) {
	f := deleteFake().alias("Req", "req")
	env := newGateEnv(t, f)
	var self *upd
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.Requester != "req" || st.RequesterID != f.idOf("req") {
			t.Errorf("requester %q (%d), want the account's canonical name and id", st.Requester, st.RequesterID)
		}
		self = decide(env, "d1", process.DecisionApprove, "req", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() { decide(env, "d2", process.DecisionCancel, "req", "") }, 2*time.Hour)
	o := deleteOptions()
	env.ExecuteWorkflow(DeleteWiki, DeleteWikiInput{Wiki: gwWiki, Requester: "Req", Reason: "spam", Options: o, Definition: DeleteWikiDefinition(o)})
	st := endStatus(t, env)
	wantRefused(t, "self-approval", self, "the requester may not approve their own request")
	if st.State != process.StateCancelled {
		t.Errorf("state %s, want cancelled by the requester under another spelling", st.State)
	}
	if in := f.holderIn; len(in) != 1 || len(in[0].Exclude) != 1 || in[0].Exclude[0] != "req" {
		t.Errorf("approvers counted excluding %+v, want the canonical requester", in)
	}
}

func TestDeleteWikiRefusesProtectedWikis(t *testing.T) {
	for _, wiki := range []string{gwCentral, "keepwiki"} {
		t.Run(wiki, func(t *testing.T) {
			f := deleteFake()
			env := newGateEnv(t, f)
			o := deleteOptions()
			o.ProtectedWikis = []string{"keepwiki"}
			env.ExecuteWorkflow(DeleteWiki, DeleteWikiInput{Wiki: wiki, Requester: "req", Reason: "x", Options: o, Definition: DeleteWikiDefinition(o)})
			wantProcessRefused(t, env, "is a Protected wiki")
			if len(f.calls) != 0 {
				t.Errorf("activities %v ran for a Protected wiki", f.calls)
			}
		})
	}
}

func TestRequesterWithNoAccountIsRefused(t *testing.T) {
	cases := map[string]func(env *testsuite.TestWorkflowEnvironment){
		"delete-wiki": runDelete,
		"change-setting": func(env *testsuite.TestWorkflowEnvironment) {
			runSetting(env)
		},
		"request-wiki": runRequest,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			f := deleteFake()
			f.noAccount["req"] = true
			env := newGateEnv(t, f)
			run(env)
			st := wantProcessRefused(t, env, "req has no account")
			if len(st.Approvals) != 0 || f.called(activities.NameCloseWiki) != 0 || f.called(activities.NameApplySetting) != 0 {
				t.Errorf("something ran for a requester with no account: %v", f.calls)
			}
			if strings.Contains(strings.Join(f.calls, " "), activities.NameUpdateRequest) {
				t.Errorf("a request with no account was written: %v", f.calls)
			}
		})
	}
}

func TestDeleteWikiRefusedWhileAnotherProcessOwnsTheWiki(t *testing.T) {
	f := deleteFake()
	f.owners[gwWiki] = "create-wiki:" + gwWiki
	env := newGateEnv(t, f)
	runDelete(env)
	wantProcessRefused(t, env, "create-wiki:"+gwWiki)
	if f.called(activities.NameCountRightHolders) != 0 || f.called(activities.NameCloseWiki) != 0 {
		t.Errorf("calls %v: nothing may run once the wiki is another's", f.calls)
	}
	if f.owners[gwWiki] != "create-wiki:"+gwWiki {
		t.Errorf("owners %v: the creation keeps the wiki", f.owners)
	}
}

func TestDeleteWikiOwnsTheWikiUntilItEnds(t *testing.T) {
	f := deleteFake()
	env := newGateEnv(t, f)
	env.RegisterDelayedCallback(func() {
		f.mu.Lock()
		owner := f.owners[gwWiki]
		f.mu.Unlock()
		if owner == "" {
			t.Error("the deletion waits for approvals without owning the wiki")
		}
		decide(env, "c1", process.DecisionCancel, "req", "")
	}, time.Hour)
	runDelete(env)
	if st := endStatus(t, env); st.State != process.StateCancelled {
		t.Fatalf("state %s", st.State)
	}
	if len(f.owners) != 0 {
		t.Errorf("owners %v after the deletion ended: it must give the wiki back", f.owners)
	}
}

// Other writers decide too: CreateWiki's own form declined the request
// while WikiFlow's reviewers approved it; the process follows the decline
// instead of overwriting it, and creates nothing.
func TestRequestWikiFollowsCreateWikisOwnForm(t *testing.T) {
	f := requestFake()
	env := newGateEnv(t, f)
	env.RegisterDelayedCallback(func() { decide(env, "a1", process.DecisionApprove, "r1", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		f.mu.Lock()
		f.external = "declined"
		f.mu.Unlock()
		decide(env, "a2", process.DecisionApprove, "r2", "")
	}, 2*time.Hour)
	runRequest(env)
	st := endStatus(t, env)
	if st.State != process.StateDeclined || st.Result["changed_outside"] != "declined" {
		t.Fatalf("state %s result %v, want declined as CreateWiki's form said", st.State, st.Result)
	}
	if f.called(activities.NameValidateWiki) != 0 {
		t.Error("the wiki's creation started although the request was declined elsewhere")
	}
	for _, u := range f.updates {
		if u.Status == "approved" {
			t.Errorf("cw_status was overwritten with approved: %+v", u)
		}
	}
}

// ManageWiki's "undelete this wiki" during the grace period: the deletion
// ends cancelled and drops nothing.
func TestDeleteWikiFollowsAnUndeleteElsewhere(t *testing.T) {
	f := deleteFake()
	env := newGateEnv(t, f)
	env.RegisterDelayedCallback(func() { decide(env, "d1", process.DecisionApprove, "steward", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		f.mu.Lock()
		f.lookup.Deleted = false // as ManageWiki leaves it
		f.mu.Unlock()
	}, 2*time.Hour)
	runDelete(env)
	st := endStatus(t, env)
	if st.State != process.StateCancelled || !strings.Contains(st.Result["cancelled_because"], "undeleted outside WikiFlow") {
		t.Fatalf("state %s result %v", st.State, st.Result)
	}
	wantNothingRemoved(t, f)
}
