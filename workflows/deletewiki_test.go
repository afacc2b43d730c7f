package workflows

import (
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

const (
	delGrace  = 7 * 24 * time.Hour
	delExpiry = 14 * 24 * time.Hour
)

func deleteOptions() DeleteWikiOptions {
	return DeleteWikiOptions{
		CentralWiki: gwCentral, GracePeriod: delGrace, AttentionWindow: time.Hour,
		LocalApprovers: 2, Expiry: delExpiry,
	}
}

// deleteFake: req requests; bob holds managewiki-core on the wiki and is
// its only other holder; steward holds managewiki-restricted centrally;
// mallory holds nothing. The backup reports its path and checksum.
func deleteFake() *fakeMW {
	f := newFakeMW()
	f.grant("req", gwRight, gwWiki).grant("bob", gwRight, gwWiki).grant("steward", gwSteward, gwCentral)
	f.holders = []string{"bob"}
	f.outputs[activities.NameBackupDatabase] = map[string]string{"path": "/backups/testwiki.sql.gz", "sha256": "abc123"}
	return f
}

func runDelete(env *testsuite.TestWorkflowEnvironment) {
	o := deleteOptions()
	env.ExecuteWorkflow(DeleteWiki, DeleteWikiInput{
		Wiki: gwWiki, Requester: "req", Reason: "spam wiki", Options: o, Definition: DeleteWikiDefinition(o),
	})
}

// deleteResult is the workflow's result; a failed workflow must fail with
// a RequestRefused error, and then its status is read by the query.
func undelete(env *testsuite.TestWorkflowEnvironment, id, user string) *upd {
	u := &upd{}
	env.UpdateWorkflow(process.UpdateUndelete, id, u.cb(), process.Decision{User: user})
	return u
}

var removalSteps = []string{
	activities.NameBackupDatabase, activities.NameArchiveUploads, activities.NameExportWikiRows,
	activities.NameVerifyBackup, activities.NameDropWikiDatabase,
	activities.NameRemoveWikiRows, activities.NameRemoveStorage,
}

func wantNothingRemoved(t *testing.T, f *fakeMW) {
	t.Helper()
	for _, a := range removalSteps {
		if n := f.called(a); n != 0 {
			t.Errorf("%s called %d times, want never", a, n)
		}
	}
}

func TestDeleteWikiRequesterWithoutRightIsRefused(t *testing.T) {
	f := deleteFake()
	f.rights = map[string]bool{} // req holds nothing
	env := newGateEnv(t, f)
	runDelete(env)

	wantProcessRefused(t, env, deniedReason("req", gwWiki, []string{gwRight}))
	if f.called(activities.NameCountRightHolders) != 0 || f.called(activities.NameCloseWiki) != 0 {
		t.Errorf("calls %v: nothing may run after the refusal", f.calls)
	}
}

func TestDeleteWikiUnknownOrDeletedWikiIsRefused(t *testing.T) {
	for name, setup := range map[string]func(f *fakeMW){
		"unknown": func(f *fakeMW) {
			f.fail("LookupWiki", temporal.NewNonRetryableApplicationError("not registered", activities.ErrWikiNotFound, nil))
		},
		"deleted": func(f *fakeMW) { f.lookup.Deleted = true },
	} {
		t.Run(name, func(t *testing.T) {
			f := deleteFake()
			setup(f)
			env := newGateEnv(t, f)
			runDelete(env)
			wantProcessRefused(t, env, gwWiki)
			if f.called(activities.NameCheckRights) != 0 {
				t.Errorf("calls %v", f.calls)
			}
		})
	}
}

// The full deletion: quorum 1 (one other holder), bob approves; the wiki is
// closed, marked deleted and the bureaucrats told; after the grace period
// the removal runs in order and the status shows the backup.
func TestDeleteWikiApprovedThenRemovedAfterGrace(t *testing.T) {
	f := deleteFake()
	env := newGateEnv(t, f)
	var approve *upd
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result["quorum"] != "1" {
			t.Errorf("state %s quorum %q, want waiting-approval with quorum 1", st.State, st.Result["quorum"])
		}
		approve = decide(env, "a1", process.DecisionApprove, "bob", "agreed")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.State != process.StateGracePeriod {
			t.Errorf("state %s one day after the approval, want grace-period", st.State)
		}
		for _, a := range []string{activities.NameCloseWiki, activities.NameMarkWikiDeleted, activities.NameNotifyBureaucrats} {
			if f.called(a) != 1 {
				t.Errorf("%s called %d times by the start of the grace period, want 1", a, f.called(a))
			}
		}
		wantNothingRemoved(t, f)
		if st.Result["delete_after"] == "" || st.Result["deleted_at"] == "" {
			t.Errorf("result %v: want deleted_at and delete_after", st.Result)
		}
	}, 25*time.Hour)
	runDelete(env)
	st := endStatus(t, env)

	wantAccepted(t, "bob's approval", approve)
	if st.State != process.StateCompleted {
		t.Fatalf("state %s (steps %+v), want completed", st.State, st.Steps)
	}
	if in := f.holderIn; len(in) != 1 || in[0].Wiki != gwWiki || in[0].Right != gwRight || !slices.Equal(in[0].Exclude, []string{"req"}) {
		t.Errorf("CountRightHolders inputs %+v, want the wiki's managewiki-core holders minus the requester", in)
	}
	if d := elapsed(st, st.Ended); d != time.Hour+delGrace {
		t.Errorf("ended after %v, want the approval (1h) plus the grace period", d)
	}
	// Close, mark, notify (scheduled), then the removal in dependency order.
	order := []string{activities.NameCloseWiki, activities.NameMarkWikiDeleted, activities.NameNotifyBureaucrats,
		activities.NameBackupDatabase, activities.NameVerifyBackup, activities.NameDropWikiDatabase}
	for i := 1; i < len(order); i++ {
		if f.firstCall(order[i-1]) >= f.firstCall(order[i]) {
			t.Errorf("%s ran after %s; calls %v", order[i-1], order[i], f.calls)
		}
	}
	drop := f.firstCall(activities.NameDropWikiDatabase)
	notifyDeleted := slices.Index(f.calls[f.firstCall(activities.NameNotifyBureaucrats)+1:], activities.NameNotifyBureaucrats) +
		f.firstCall(activities.NameNotifyBureaucrats) + 1
	for _, a := range []string{activities.NameRemoveWikiRows, activities.NameRemoveStorage} {
		if i := f.firstCall(a); i < drop || i > notifyDeleted {
			t.Errorf("%s at %d, want between drop (%d) and the final notice (%d): %v", a, i, drop, notifyDeleted, f.calls)
		}
	}
	for _, a := range append(slices.Clone(removalSteps), activities.NameCloseWiki, activities.NameMarkWikiDeleted) {
		if f.called(a) != 1 {
			t.Errorf("%s called %d times, want once", a, f.called(a))
		}
	}
	if f.called(activities.NameReopenWiki) != 0 {
		t.Error("ReopenWiki called without an undelete")
	}
	notices := f.steps[activities.NameNotifyBureaucrats]
	if len(notices) != 2 || notices[0].Params["phase"] != "scheduled" || notices[1].Params["phase"] != "deleted" {
		t.Errorf("bureaucrat notices %+v, want scheduled then deleted", notices)
	}
	if st.Result["backup_path"] != "/backups/testwiki.sql.gz" || st.Result["backup_sha256"] != "abc123" {
		t.Errorf("result %v: want the backup's path and checksum", st.Result)
	}
	wantStepStates(t, st, map[string]string{StepBackup: "succeeded", StepVerifyBackup: "succeeded", StepDropDatabase: "succeeded",
		StepRemoveRows: "succeeded", StepRemoveStorage: "succeeded", StepNotifyDeleted: "succeeded"})
}

// No other local holder: quorum 0, only a steward decides; a local holder
// of managewiki-core is refused.
func TestDeleteWikiWithoutLocalApproversNeedsASteward(t *testing.T) {
	f := deleteFake()
	f.holders = nil
	env := newGateEnv(t, f)
	var local, steward *upd
	env.RegisterDelayedCallback(func() { local = decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := queryStatus(t, env); st.State != process.StateWaitingApproval || st.Result["quorum"] != "0" {
			t.Errorf("state %s quorum %q after a local approval, want still waiting with quorum 0", st.State, st.Result["quorum"])
		}
		steward = decide(env, "a2", process.DecisionApprove, "steward", "")
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() { undelete(env, "u1", "req") }, 3*time.Hour) // keep it short
	runDelete(env)
	st := endStatus(t, env)

	const why = "only a holder of " + gwSteward + " on " + gwCentral + " can decide here"
	wantRefused(t, "local approval", local, why)
	wantAccepted(t, "steward's approval", steward)
	wantRecords(t, st.Approvals,
		rec("bob", process.DecisionApprove, false, why),
		process.ApprovalRecord{User: "steward", Decision: process.DecisionApprove, Accepted: true, Override: true})
	if f.called(activities.NameCloseWiki) != 1 {
		t.Error("the steward's approval did not close the wiki")
	}
}

func TestDeleteWikiUndeleteDuringGraceReopens(t *testing.T) {
	f := deleteFake()
	env := newGateEnv(t, f)
	var early, stranger, requester *upd
	env.RegisterDelayedCallback(func() { early = undelete(env, "u0", "req") }, 30*time.Minute) // before any approval
	env.RegisterDelayedCallback(func() { decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { stranger = undelete(env, "u1", "mallory") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(process.SignalUndelete, process.Decision{User: "mallory"}) }, 3*time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := queryStatus(t, env); st.State != process.StateGracePeriod {
			t.Errorf("state %s after refused undeletes, want grace-period", st.State)
		}
		requester = undelete(env, "u2", "req")
	}, 48*time.Hour)
	runDelete(env)
	st := endStatus(t, env)

	const notNow = "undelete is only possible during the grace period"
	wantRefused(t, "undelete before the grace period", early, notNow)
	why := "mallory is neither the requester, an approver, nor a holder of " + gwSteward + " on " + gwCentral
	wantRefused(t, "undelete by a stranger", stranger, why)
	wantAccepted(t, "undelete by the requester", requester)
	if st.State != process.StateCancelled || st.Result["undeleted_by"] != "req" {
		t.Fatalf("state %s undeleted_by %q, want cancelled by req", st.State, st.Result["undeleted_by"])
	}
	if d := elapsed(st, st.Ended); d != 48*time.Hour {
		t.Errorf("ended after %v, want right after the undelete (48h)", d)
	}
	if f.called(activities.NameReopenWiki) != 1 {
		t.Errorf("ReopenWiki called %d times, want once", f.called(activities.NameReopenWiki))
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
	if !slices.ContainsFunc(f.authz, func(a process.AuthorizeInput) bool {
		return a.User == "mallory" && a.Wiki == gwCentral && slices.Equal(a.AnyRight, []string{gwSteward})
	}) {
		t.Errorf("rights checks %+v: mallory was not checked on the central wiki", f.authz)
	}
}

// An approver and a steward may undelete too.
func TestDeleteWikiUndeleteByApprover(t *testing.T) {
	f := deleteFake()
	env := newGateEnv(t, f)
	var u *upd
	env.RegisterDelayedCallback(func() { decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { u = undelete(env, "u1", "bob") }, 2*time.Hour)
	runDelete(env)
	st := endStatus(t, env)
	wantAccepted(t, "undelete by the approver", u)
	if st.State != process.StateCancelled || st.Result["undeleted_by"] != "bob" || f.called(activities.NameReopenWiki) != 1 {
		t.Errorf("state %s undeleted_by %q", st.State, st.Result["undeleted_by"])
	}
	wantNothingRemoved(t, f)
}

// Once the grace period is over the removal has begun: undelete is refused.
func TestDeleteWikiUndeleteAfterGraceIsRefused(t *testing.T) {
	f := deleteFake()
	env := newGateEnv(t, f, delay{activity: activities.NameBackupDatabase, d: 2 * time.Hour})
	var late *upd
	env.RegisterDelayedCallback(func() { decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := queryStatus(t, env); st.Step(StepBackup) == nil || st.Step(StepBackup).State != process.StepRunning {
			t.Errorf("backup not running at the time of the late undelete: %+v", st.Steps)
		}
		late = undelete(env, "u1", "req")
		env.SignalWorkflow(process.SignalUndelete, process.Decision{User: "steward"})
	}, time.Hour+delGrace+time.Hour)
	runDelete(env)
	st := endStatus(t, env)

	const notNow = "undelete is only possible during the grace period"
	wantRefused(t, "undelete after the grace period", late, notNow)
	if st.State != process.StateCompleted || f.called(activities.NameReopenWiki) != 0 || f.called(activities.NameDropWikiDatabase) != 1 {
		t.Errorf("state %s, reopen %d, drop %d", st.State, f.called(activities.NameReopenWiki), f.called(activities.NameDropWikiDatabase))
	}
	if len(st.Actions) != 2 || st.Actions[0].Accepted || st.Actions[1].Accepted ||
		st.Actions[0].Reason != notNow || st.Actions[1].Reason != notNow {
		t.Errorf("actions %+v, want two refusals", st.Actions)
	}
}

func TestDeleteWikiDeclinedOrExpiredNeverCloses(t *testing.T) {
	for _, c := range []struct {
		name  string
		send  func(env *testsuite.TestWorkflowEnvironment)
		state string
		after time.Duration
	}{
		{"declined", func(env *testsuite.TestWorkflowEnvironment) {
			env.SignalWorkflow(process.SignalDecline, process.Decision{User: "bob", Comment: "keep it"})
			// An undelete with the decision that ends the process is refused.
			env.SignalWorkflow(process.SignalUndelete, process.Decision{User: "req"})
		}, process.StateDeclined, time.Hour},
		{"expired", func(env *testsuite.TestWorkflowEnvironment) {}, process.StateExpired, delExpiry},
		{"cancelled", func(env *testsuite.TestWorkflowEnvironment) {
			decide(env, "c1", process.DecisionCancel, "req", "")
		}, process.StateCancelled, time.Hour},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := deleteFake()
			env := newGateEnv(t, f)
			env.RegisterDelayedCallback(func() { c.send(env) }, time.Hour)
			runDelete(env)
			st := endStatus(t, env)
			if st.State != c.state || elapsed(st, st.Ended) != c.after {
				t.Fatalf("state %s after %v, want %s after %v", st.State, elapsed(st, st.Ended), c.state, c.after)
			}
			for _, a := range []string{activities.NameCloseWiki, activities.NameMarkWikiDeleted, activities.NameNotifyBureaucrats, activities.NameReopenWiki} {
				if f.called(a) != 0 {
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
	f := deleteFake()
	f.fail(activities.NameCloseWiki, temporal.NewNonRetryableApplicationError("database is read-only", "Broken", nil))
	env := newGateEnv(t, f)
	env.RegisterDelayedCallback(func() { decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	runDelete(env)
	if err := env.GetWorkflowError(); err == nil {
		t.Fatal("want the workflow to fail")
	}
	if st := queryStatus(t, env); st.State != process.StateFailed {
		t.Errorf("state %s after CloseWiki failed, want failed", st.State)
	}
	if f.called(activities.NameMarkWikiDeleted) != 0 {
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
	f := deleteFake()
	env := newGateEnv(t, f, delay{activity: activities.NameCheckRights, user: "steward", d: 2 * time.Hour})
	var u *upd
	env.RegisterDelayedCallback(func() { decide(env, "a1", process.DecisionApprove, "bob", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { u = undelete(env, "u1", "steward") }, delGrace) // 1h before the end of the grace period
	runDelete(env)
	st := endStatus(t, env)

	if f.called(activities.NameDropWikiDatabase) != 1 || f.called(activities.NameReopenWiki) != 0 {
		t.Fatalf("drop %d reopen %d: the removal should have gone ahead", f.called(activities.NameDropWikiDatabase), f.called(activities.NameReopenWiki))
	}
	wantRefused(t, "undelete checked past the grace period", u, "grace period")
	if len(st.Actions) != 1 || st.Actions[0].Accepted {
		t.Errorf("actions %+v, want the undelete recorded as refused", st.Actions)
	}
}
