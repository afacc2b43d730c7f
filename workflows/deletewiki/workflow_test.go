package deletewiki_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

// newEnv is the test environment of a deletion.
func newEnv(t *testing.T, f *workflowtest.Farm, delays ...workflowtest.Delay) *workflowtest.Env {
	t.Helper()
	return workflowtest.NewEnv(t, f, []any{deletewiki.DeleteWiki}, delays...)
}

func runDelete(env *workflowtest.Env) {
	env.ExecuteWorkflow(deletewiki.DeleteWiki, workflowtest.DeleteInput(workflowtest.Wiki, "req", "spam wiki", workflowtest.DeleteOptions()))
}

// undelete asks for the wiki back by the undelete update.
func undelete(env *workflowtest.Env, id, user string) *workflowtest.Upd {
	return workflowtest.Update(env, process.UpdateUndelete, id, process.DecisionSignal{User: user})
}

var removalSteps = []string{
	deletewiki.NameBackupDatabase, deletewiki.NameArchiveUploads, deletewiki.NameExportWikiRows,
	deletewiki.NameVerifyBackup, deletewiki.NameDropWikiDatabase,
	deletewiki.NameRemoveWikiRows, createwiki.NameRemoveStorage,
}

func wantNothingRemoved(t *testing.T, f *workflowtest.Farm) {
	t.Helper()
	for _, a := range removalSteps {
		if n := f.Called(a); n != 0 {
			t.Errorf("%s called %d times, want never", a, n)
		}
	}
}

func TestDeleteWikiRequesterWithoutRightIsRefused(t *testing.T) {
	f := workflowtest.DeleteFarm()
	f.Rights = map[string]bool{} // req holds nothing
	env := newEnv(t, f)
	runDelete(env)

	workflowtest.WantProcessRefused(t, env, workflowtest.DeniedReason("req", workflowtest.Wiki, []process.Right{workflowtest.Right}))
	if f.Called(deletewiki.NameCountRightHolders) != 0 || f.Called(deletewiki.NameCloseWiki) != 0 {
		t.Errorf("calls %v: nothing may run after the refusal", f.Calls)
	}
}

func TestDeleteWikiUnknownOrDeletedWikiIsRefused(t *testing.T) {
	for name, setup := range map[string]func(f *workflowtest.Farm){
		"unknown": func(f *workflowtest.Farm) {
			f.Fail("LookupWiki", workflowtest.Permanent("not registered", activities.ErrTypeWikiNotFound))
		},
		"deleted": func(f *workflowtest.Farm) { f.Lookup.Deleted = true },
	} {
		t.Run(name, func(t *testing.T) {
			f := workflowtest.DeleteFarm()
			setup(f)
			env := newEnv(t, f)
			runDelete(env)
			workflowtest.WantProcessRefused(t, env, workflowtest.Wiki)
			if f.Called(activities.NameCheckRights) != 0 {
				t.Errorf("calls %v", f.Calls)
			}
		})
	}
}

// The full deletion: quorum 1 (one other holder), bob approves; the wiki is
// closed, marked deleted and the bureaucrats told; after the grace period
// the removal runs in order and the status shows the backup.
func TestDeleteWikiApprovedThenRemovedAfterGrace(t *testing.T) {
	f := workflowtest.DeleteFarm()
	env := newEnv(t, f)
	var approve *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result["quorum"] != "1" {
			t.Errorf("state %s quorum %q, want waiting-approval with quorum 1", st.State, st.Result["quorum"])
		}
		approve = workflowtest.Decide(env, "a1", process.DecisionApprove, "bob", "agreed")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateGracePeriod {
			t.Errorf("state %s one day after the approval, want grace-period", st.State)
		}
		for _, a := range []string{deletewiki.NameCloseWiki, deletewiki.NameMarkWikiDeleted, deletewiki.NameNotifyBureaucrats} {
			if f.Called(a) != 1 {
				t.Errorf("%s called %d times by the start of the grace period, want 1", a, f.Called(a))
			}
		}
		wantNothingRemoved(t, f)
		if st.Result["delete_after"] == "" || st.Result["deleted_at"] == "" {
			t.Errorf("result %v: want deleted_at and delete_after", st.Result)
		}
	}, 25*time.Hour)
	runDelete(env)
	st := workflowtest.EndStatus(t, env)

	workflowtest.WantAccepted(t, "bob's approval", approve)
	if st.State != process.StateCompleted {
		t.Fatalf("state %s (steps %+v), want completed", st.State, st.Steps)
	}
	if in := f.HolderIn; len(in) != 1 || in[0].Wiki != workflowtest.Wiki || in[0].Right != workflowtest.Right || !slices.Equal(in[0].Exclude, []string{"req"}) {
		t.Errorf("CountRightHolders inputs %+v, want the wiki's managewiki-core holders minus the requester", in)
	}
	if d := workflowtest.Elapsed(st, st.Ended); d != time.Hour+workflowtest.DeleteGrace {
		t.Errorf("ended after %v, want the approval (1h) plus the grace period", d)
	}
	// Close, mark, notify (scheduled), then the removal in dependency order.
	order := []string{deletewiki.NameCloseWiki, deletewiki.NameMarkWikiDeleted, deletewiki.NameNotifyBureaucrats,
		deletewiki.NameBackupDatabase, deletewiki.NameVerifyBackup, deletewiki.NameDropWikiDatabase}
	for i := 1; i < len(order); i++ {
		if f.FirstCall(order[i-1]) >= f.FirstCall(order[i]) {
			t.Errorf("%s ran after %s; calls %v", order[i-1], order[i], f.Calls)
		}
	}
	drop := f.FirstCall(deletewiki.NameDropWikiDatabase)
	notifyDeleted := slices.Index(f.Calls[f.FirstCall(deletewiki.NameNotifyBureaucrats)+1:], deletewiki.NameNotifyBureaucrats) +
		f.FirstCall(deletewiki.NameNotifyBureaucrats) + 1
	for _, a := range []string{deletewiki.NameRemoveWikiRows, createwiki.NameRemoveStorage} {
		if i := f.FirstCall(a); i < drop || i > notifyDeleted {
			t.Errorf("%s at %d, want between drop (%d) and the final notice (%d): %v", a, i, drop, notifyDeleted, f.Calls)
		}
	}
	for _, a := range append(slices.Clone(removalSteps), deletewiki.NameCloseWiki, deletewiki.NameMarkWikiDeleted) {
		if f.Called(a) != 1 {
			t.Errorf("%s called %d times, want once", a, f.Called(a))
		}
	}
	if f.Called(deletewiki.NameReopenWiki) != 0 {
		t.Error("ReopenWiki called without an undelete")
	}
	notices := f.Steps[deletewiki.NameNotifyBureaucrats]
	if len(notices) != 2 || notices[0].Params["phase"] != "scheduled" || notices[1].Params["phase"] != "deleted" {
		t.Errorf("bureaucrat notices %+v, want scheduled then deleted", notices)
	}
	if st.Result["backup_path"] != "/backups/testwiki.sql.gz" || st.Result["backup_sha256"] != "abc123" {
		t.Errorf("result %v: want the backup's path and checksum", st.Result)
	}
	workflowtest.WantStepStates(t, st, map[string]process.StepState{deletewiki.StepBackup: "succeeded", deletewiki.StepVerifyBackup: "succeeded", deletewiki.StepDropDatabase: "succeeded",
		deletewiki.StepRemoveRows: "succeeded", deletewiki.StepRemoveStorage: "succeeded", deletewiki.StepNotifyDeleted: "succeeded"})
}

// No other local holder: quorum 0, only a steward decides; a local holder
// of managewiki-core is refused.
func TestDeleteWikiWithoutLocalApproversNeedsASteward(t *testing.T) {
	f := workflowtest.DeleteFarm()
	f.Holders = nil
	env := newEnv(t, f)
	var local, steward *workflowtest.Upd
	env.RegisterDelayedCallback(func() { local = workflowtest.Decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := workflowtest.QueryStatus(t, env); st.State != process.StateWaitingApproval || st.Result["quorum"] != "0" {
			t.Errorf("state %s quorum %q after a local approval, want still waiting with quorum 0", st.State, st.Result["quorum"])
		}
		steward = workflowtest.Decide(env, "a2", process.DecisionApprove, "steward", "")
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() { undelete(env, "u1", "req") }, 3*time.Hour) // keep it short
	runDelete(env)
	st := workflowtest.EndStatus(t, env)

	const why = "only a holder of " + string(workflowtest.Steward) + " on " + workflowtest.Central + " can decide here"
	workflowtest.WantRefused(t, "local approval", local, why)
	workflowtest.WantAccepted(t, "steward's approval", steward)
	workflowtest.WantRecords(t, st.Approvals,
		workflowtest.Rec("bob", process.DecisionApprove, false, why),
		process.ApprovalRecord{User: "steward", Decision: process.DecisionApprove, Accepted: true, Override: true})
	if f.Called(deletewiki.NameCloseWiki) != 1 {
		t.Error("the steward's approval did not close the wiki")
	}
}

func TestDeleteWikiUndeleteDuringGraceReopens(t *testing.T) {
	f := workflowtest.DeleteFarm()
	env := newEnv(t, f)
	var early, stranger, requester *workflowtest.Upd
	env.RegisterDelayedCallback(func() { early = undelete(env, "u0", "req") }, 30*time.Minute) // before any approval
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { stranger = undelete(env, "u1", "mallory") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(process.SignalUndelete, process.DecisionSignal{User: "mallory"}) }, 3*time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := workflowtest.QueryStatus(t, env); st.State != process.StateGracePeriod {
			t.Errorf("state %s after refused undeletes, want grace-period", st.State)
		}
		requester = undelete(env, "u2", "req")
	}, 48*time.Hour)
	runDelete(env)
	st := workflowtest.EndStatus(t, env)

	const notNow = "undelete is only possible during the grace period"
	workflowtest.WantRefused(t, "undelete before the grace period", early, notNow)
	why := "mallory is neither the requester, an approver, nor a holder of " + string(workflowtest.Steward) + " on " + workflowtest.Central
	workflowtest.WantRefused(t, "undelete by a stranger", stranger, why)
	workflowtest.WantAccepted(t, "undelete by the requester", requester)
	if st.State != process.StateCancelled || st.Result["undeleted_by"] != "req" {
		t.Fatalf("state %s undeleted_by %q, want cancelled by req", st.State, st.Result["undeleted_by"])
	}
	if d := workflowtest.Elapsed(st, st.Ended); d != 48*time.Hour {
		t.Errorf("ended after %v, want right after the undelete (48h)", d)
	}
	if f.Called(deletewiki.NameReopenWiki) != 1 {
		t.Errorf("ReopenWiki called %d times, want once", f.Called(deletewiki.NameReopenWiki))
	}
	wantNothingRemoved(t, f)
	if len(st.Actions) != 4 {
		t.Fatalf("actions %+v, want 4", st.Actions)
	}
	for i, w := range []process.ActionRecord{
		{User: "req", Reason: notNow}, {User: "mallory", Reason: why}, {User: "mallory", Reason: why}, {User: "req", Accepted: true},
	} {
		a := st.Actions[i]
		if a.Action != "undelete" || a.User != w.User || a.Accepted != w.Accepted || (!w.Accepted && a.Reason != w.Reason) {
			t.Errorf("action %d: %+v, want %+v", i, a, w)
		}
	}
	// The stranger was asked about centrally; MediaWiki was not asked about
	// the requester, whom the process already checked on the wiki.
	if !slices.ContainsFunc(f.Authz, func(a process.AuthorizeInput) bool {
		return a.User == "mallory" && a.Wiki == workflowtest.Central && slices.Equal(a.AnyRight, []process.Right{workflowtest.Steward})
	}) {
		t.Errorf("rights checks %+v: mallory was not checked on the central wiki", f.Authz)
	}
}

// An approver and a steward may undelete too.
func TestDeleteWikiUndeleteByApprover(t *testing.T) {
	f := workflowtest.DeleteFarm()
	env := newEnv(t, f)
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { u = undelete(env, "u1", "bob") }, 2*time.Hour)
	runDelete(env)
	st := workflowtest.EndStatus(t, env)
	workflowtest.WantAccepted(t, "undelete by the approver", u)
	if st.State != process.StateCancelled || st.Result["undeleted_by"] != "bob" || f.Called(deletewiki.NameReopenWiki) != 1 {
		t.Errorf("state %s undeleted_by %q", st.State, st.Result["undeleted_by"])
	}
	wantNothingRemoved(t, f)
}

// Once the grace period is over the removal has begun: undelete is refused.
func TestDeleteWikiUndeleteAfterGraceIsRefused(t *testing.T) {
	f := workflowtest.DeleteFarm()
	env := newEnv(t, f, workflowtest.Delay{Activity: deletewiki.NameBackupDatabase, D: 2 * time.Hour})
	var late *workflowtest.Upd
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := workflowtest.QueryStatus(t, env); st.Step(deletewiki.StepBackup) == nil || st.Step(deletewiki.StepBackup).State != process.StepRunning {
			t.Errorf("backup not running at the time of the late undelete: %+v", st.Steps)
		}
		late = undelete(env, "u1", "req")
		env.SignalWorkflow(process.SignalUndelete, process.DecisionSignal{User: "steward"})
	}, time.Hour+workflowtest.DeleteGrace+time.Hour)
	runDelete(env)
	st := workflowtest.EndStatus(t, env)

	const notNow = "undelete is only possible during the grace period"
	workflowtest.WantRefused(t, "undelete after the grace period", late, notNow)
	if st.State != process.StateCompleted || f.Called(deletewiki.NameReopenWiki) != 0 || f.Called(deletewiki.NameDropWikiDatabase) != 1 {
		t.Errorf("state %s, reopen %d, drop %d", st.State, f.Called(deletewiki.NameReopenWiki), f.Called(deletewiki.NameDropWikiDatabase))
	}
	if len(st.Actions) != 2 || st.Actions[0].Accepted || st.Actions[1].Accepted ||
		st.Actions[0].Reason != notNow || st.Actions[1].Reason != notNow {
		t.Errorf("actions %+v, want two refusals", st.Actions)
	}
}

func TestDeleteWikiDeclinedOrExpiredNeverCloses(t *testing.T) {
	for _, c := range []struct {
		name  string
		send  func(env *workflowtest.Env)
		state process.State
		after time.Duration
	}{
		{"declined", func(env *workflowtest.Env) {
			env.SignalWorkflow(process.SignalDecline, process.DecisionSignal{User: "bob", Comment: "keep it"})
			// An undelete with the decision that ends the process is refused.
			env.SignalWorkflow(process.SignalUndelete, process.DecisionSignal{User: "req"})
		}, process.StateDeclined, time.Hour},
		{"expired", func(env *workflowtest.Env) {}, process.StateExpired, workflowtest.DeleteExpiry},
		{"cancelled", func(env *workflowtest.Env) {
			workflowtest.Decide(env, "c1", process.DecisionCancel, "req", "")
		}, process.StateCancelled, time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := workflowtest.DeleteFarm()
			env := newEnv(t, f)
			env.RegisterDelayedCallback(func() { c.send(env) }, time.Hour)
			runDelete(env)
			st := workflowtest.EndStatus(t, env)
			if st.State != c.state || workflowtest.Elapsed(st, st.Ended) != c.after {
				t.Fatalf("state %s after %v, want %s after %v", st.State, workflowtest.Elapsed(st, st.Ended), c.state, c.after)
			}
			for _, a := range []string{deletewiki.NameCloseWiki, deletewiki.NameMarkWikiDeleted, deletewiki.NameNotifyBureaucrats, deletewiki.NameReopenWiki} {
				if f.Called(a) != 0 {
					t.Errorf("%s called", a)
				}
			}
			wantNothingRemoved(t, f)
			for _, a := range st.Actions {
				if a.Action != "undelete" || a.Accepted || a.Reason == "" {
					t.Errorf("action %+v, want a refused undelete", a)
				}
			}
			if c.state == process.StateDeclined && len(st.Actions) != 1 {
				t.Errorf("actions %+v, want the undelete sent with the decline recorded", st.Actions)
			}
		})
	}
}

// A failure after the approval must leave the status failed, not
// waiting-approval.
//
// Bug: Gate.Wait set the state to waiting-approval; when CloseWiki (or
// MarkWikiDeleted, or ReopenWiki in the grace period) fails, run returns
// the error and DeleteWiki only turns a "running" state into failed.
func TestDeleteWikiCloseFailureEndsFailed(t *testing.T) {
	f := workflowtest.DeleteFarm()
	f.Fail(deletewiki.NameCloseWiki, workflowtest.Permanent("database is read-only", "Broken"))
	env := newEnv(t, f)
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	runDelete(env)
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("want the workflow to fail")
	}
	if st := workflowtest.QueryStatus(t, env); st.State != process.StateFailed {
		t.Errorf("state %s after CloseWiki failed, want failed", st.State)
	}
	if f.Called(deletewiki.NameMarkWikiDeleted) != 0 {
		t.Error("marked deleted although closing failed")
	}
}

// An undelete whose rights check runs past the end of the grace period must
// be refused: the removal has started.
//
// Bug: listenUndelete's decide sets rec.Accepted from mayUndelete and only
// guards the assignment of d.undelete with d.grace; when the grace period
// ended during the CheckRights activity the record says accepted and the
// update answers success, yet the wiki is removed.
func TestDeleteWikiUndeleteCheckedPastGraceIsRefused(t *testing.T) {
	f := workflowtest.DeleteFarm()
	env := newEnv(t, f, workflowtest.SlowRights("steward", 2*time.Hour))
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { u = undelete(env, "u1", "steward") }, workflowtest.DeleteGrace) // 1h before the end of the grace period
	runDelete(env)
	st := workflowtest.EndStatus(t, env)

	if f.Called(deletewiki.NameDropWikiDatabase) != 1 || f.Called(deletewiki.NameReopenWiki) != 0 {
		t.Fatalf("drop %d reopen %d: the removal should have gone ahead", f.Called(deletewiki.NameDropWikiDatabase), f.Called(deletewiki.NameReopenWiki))
	}
	workflowtest.WantRefused(t, "undelete checked past the grace period", u, "grace period")
	if len(st.Actions) != 1 || st.Actions[0].Accepted {
		t.Errorf("actions %+v, want the undelete recorded as refused", st.Actions)
	}
}

// The requester is who MediaWiki says they are (the fake's aliases are
// other spellings of one account), and the wiki is the deletion's alone.

func TestDeleteWikiRecordsTheCanonicalRequester(t *testing.T) {
	f := workflowtest.DeleteFarm().Alias("Req", "req")
	env := newEnv(t, f)
	var self *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.Requester != "req" || st.RequesterID != f.IDOf("req") {
			t.Errorf("requester %q (%d), want the account's canonical name and id", st.Requester, st.RequesterID)
		}
		self = workflowtest.Decide(env, "d1", process.DecisionApprove, "req", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "d2", process.DecisionCancel, "req", "") }, 2*time.Hour)
	env.ExecuteWorkflow(deletewiki.DeleteWiki, workflowtest.DeleteInput(workflowtest.Wiki, "Req", "spam", workflowtest.DeleteOptions()))
	st := workflowtest.EndStatus(t, env)
	workflowtest.WantRefused(t, "self-approval", self, "the requester may not approve their own request")
	if st.State != process.StateCancelled {
		t.Errorf("state %s, want cancelled by the requester under another spelling", st.State)
	}
	if in := f.HolderIn; len(in) != 1 || len(in[0].Exclude) != 1 || in[0].Exclude[0] != "req" {
		t.Errorf("approvers counted excluding %+v, want the canonical requester", in)
	}
}

func TestDeleteWikiRefusesProtectedWikis(t *testing.T) {
	for _, wiki := range []string{workflowtest.Central, "keepwiki"} {
		t.Run(wiki, func(t *testing.T) {
			f := workflowtest.DeleteFarm()
			env := newEnv(t, f)
			o := workflowtest.DeleteOptions()
			o.ProtectedWikis = []string{"keepwiki"}
			env.ExecuteWorkflow(deletewiki.DeleteWiki, workflowtest.DeleteInput(wiki, "req", "x", o))
			workflowtest.WantProcessRefused(t, env, "is a protected wiki")
			if len(f.Calls) != 0 {
				t.Errorf("activities %v ran for a protected wiki", f.Calls)
			}
		})
	}
}

func TestDeleteWikiRefusedWhileAnotherProcessOwnsTheWiki(t *testing.T) {
	f := workflowtest.DeleteFarm()
	f.Owners[workflowtest.Wiki] = "create-wiki:" + workflowtest.Wiki
	env := newEnv(t, f)
	runDelete(env)
	workflowtest.WantProcessRefused(t, env, "create-wiki:"+workflowtest.Wiki)
	if f.Called(deletewiki.NameCountRightHolders) != 0 || f.Called(deletewiki.NameCloseWiki) != 0 {
		t.Errorf("calls %v: nothing may run once the wiki is another's", f.Calls)
	}
	if f.Owners[workflowtest.Wiki] != "create-wiki:"+workflowtest.Wiki {
		t.Errorf("owners %v: the creation keeps the wiki", f.Owners)
	}
}

func TestDeleteWikiOwnsTheWikiUntilItEnds(t *testing.T) {
	f := workflowtest.DeleteFarm()
	env := newEnv(t, f)
	env.RegisterDelayedCallback(func() {
		var owner string
		f.Locked(func() { owner = f.Owners[workflowtest.Wiki] })
		if owner == "" {
			t.Error("the deletion waits for approvals without owning the wiki")
		}
		workflowtest.Decide(env, "c1", process.DecisionCancel, "req", "")
	}, time.Hour)
	runDelete(env)
	if st := workflowtest.EndStatus(t, env); st.State != process.StateCancelled {
		t.Fatalf("state %s", st.State)
	}
	if len(f.Owners) != 0 {
		t.Errorf("owners %v after the deletion ended: it must give the wiki back", f.Owners)
	}
}

// ManageWiki's "undelete this wiki" during the grace period: the deletion
// ends cancelled and drops nothing.
func TestDeleteWikiFollowsAnUndeleteElsewhere(t *testing.T) {
	f := workflowtest.DeleteFarm()
	env := newEnv(t, f)
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "d1", process.DecisionApprove, "steward", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		f.Locked(func() { f.Lookup.Deleted = false }) // as ManageWiki leaves it
	}, 2*time.Hour)
	runDelete(env)
	st := workflowtest.EndStatus(t, env)
	if st.State != process.StateCancelled || !strings.Contains(st.Result["cancelled_because"], "undeleted outside WikiFlow") {
		t.Fatalf("state %s result %v", st.State, st.Result)
	}
	wantNothingRemoved(t, f)
}

// The new deletion graph: nothing is removed before the whole backup is
// verified, and the removals name the verification.
func TestDeleteWikiDefinitionBacksUpEverythingFirst(t *testing.T) {
	def := deletewiki.DeleteWikiDefinition(workflowtest.DeleteOptions())
	if err := def.Validate(); err != nil {
		t.Fatal(err)
	}
	steps := map[string]process.StepDef{}
	for _, s := range def.Steps {
		steps[s.Name] = s
	}
	for _, name := range []string{deletewiki.StepArchiveFiles, deletewiki.StepExportRows} {
		if !steps[name].Critical {
			t.Errorf("%s must be critical", name)
		}
	}
	for _, name := range []string{deletewiki.StepDropDatabase, deletewiki.StepRemoveRows, deletewiki.StepRemoveStorage} {
		s := steps[name]
		if !s.Critical || s.Params["verify_step"] != deletewiki.StepVerifyBackup || !requires(def, name, deletewiki.StepVerifyBackup) {
			t.Errorf("%s: critical %v, params %v; want critical, requiring and naming %s", name, s.Critical, s.Params, deletewiki.StepVerifyBackup)
		}
	}
	for _, part := range []string{deletewiki.StepBackup, deletewiki.StepArchiveFiles, deletewiki.StepExportRows} {
		if !requires(def, deletewiki.StepVerifyBackup, part) {
			t.Errorf("%s does not require %s", deletewiki.StepVerifyBackup, part)
		}
	}
}

// requires tells whether step needs other, directly or through others.
func requires(def process.Definition, step, other string) bool {
	for _, s := range def.Steps {
		if s.Name != step {
			continue
		}
		for _, r := range s.Requires {
			if r == other || requires(def, r, other) {
				return true
			}
		}
	}
	return false
}
