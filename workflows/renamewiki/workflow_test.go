package renamewiki_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/renamewiki"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

const (
	newName = "renamedwiki"
	expiry  = 14 * 24 * time.Hour
)

func renameOptions() renamewiki.RenameWikiOptions {
	return renamewiki.RenameWikiOptions{
		StewardOptions: workflows.StewardOptions{CentralWiki: workflowtest.Central, AttentionWindow: 24 * time.Hour, Expiry: expiry},
		ProtectedWikis: []string{"docswiki"},
	}
}

// renameFake is the farm with the rename's activities: req holds
// managewiki-core on the wiki, steward managewiki-restricted on the central
// wiki; CheckRename answers the wiki's sitename (or fails with checkErr)
// and counts its calls.
type renameFake struct {
	*workflowtest.Farm
	checkErr error
	checks   []renamewiki.CheckRenameInput
}

func newRenameEnv(t *testing.T) (*workflowtest.Env, *renameFake) {
	t.Helper()
	f := &renameFake{Farm: workflowtest.NewFarm()}
	f.Grant("req", workflowtest.Right, workflowtest.Wiki).Grant("steward", workflowtest.Steward, workflowtest.Central)
	env := workflowtest.NewEnv(t, f.Farm, []any{renamewiki.RenameWiki})
	for _, name := range renamewiki.RenameStepActivities {
		env.RegisterActivityWithOptions(f.Step(name), activity.RegisterOptions{Name: name})
	}
	env.RegisterActivityWithOptions(func(_ context.Context, in renamewiki.CheckRenameInput) (renamewiki.CheckRenameResult, error) {
		f.Locked(func() { f.checks = append(f.checks, in) })
		if err := f.Log(renamewiki.NameCheckRename); err != nil {
			return renamewiki.CheckRenameResult{}, err
		}
		if f.checkErr != nil {
			return renamewiki.CheckRenameResult{}, f.checkErr
		}
		return renamewiki.CheckRenameResult{Sitename: "Test Wiki", Cluster: "c1"}, nil
	}, activity.RegisterOptions{Name: renamewiki.NameCheckRename})
	return env, f
}

func runRename(env *workflowtest.Env, from, to, requester string) {
	o := renameOptions()
	env.ExecuteWorkflow(renamewiki.RenameWiki, renamewiki.RenameWikiInput{
		Wiki: from, To: to, Requester: requester, Reason: "a better name", Options: o, Definition: renamewiki.RenameWikiDefinition(o),
	})
}

// The steps in the order they must run.
var stepOrder = []string{
	renamewiki.NameCloseForRename, renamewiki.NameCreateRenamedDatabase, renamewiki.NameMoveWikiTables, renamewiki.NameMoveUploads,
	renamewiki.NameRenameWikiRows, renamewiki.NameRefreshRenamedLists, renamewiki.NameReopenRenamed, renamewiki.NameDropOldDatabase,
}

// The requester holds managewiki-core on the wiki; a plain user's approval
// is refused, a steward's accepted; both names are checked before and after
// the gate and owned while the process runs; the steps run in order with
// the new name and the sitename; both names are given back at the end.
func TestRenameWikiApprovedByASteward(t *testing.T) {
	env, f := newRenameEnv(t)
	var plain, ok *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result["to"] != newName || st.Result["sitename"] != "Test Wiki" {
			t.Errorf("state %s result %v, want waiting-approval for %s", st.State, st.Result, newName)
		}
		f.Locked(func() {
			if f.Owners[workflowtest.Wiki] == "" || f.Owners[newName] == "" {
				t.Errorf("owners %v while waiting, want both names owned", f.Owners)
			}
		})
		plain = workflowtest.Decide(env, "p", process.DecisionApprove, "mallory", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		if f.Called(renamewiki.NameCloseForRename) != 0 {
			t.Error("closed the wiki before an accepted approval")
		}
		ok = workflowtest.Decide(env, "o", process.DecisionApprove, "steward", "")
	}, 2*time.Hour)
	runRename(env, workflowtest.Wiki, newName, "req")
	st := workflowtest.EndStatus(t, env)
	workflowtest.WantRefused(t, "a plain user's approval", plain, "")
	workflowtest.WantAccepted(t, "the steward's approval", ok)
	if st.State != process.StateCompleted {
		t.Fatalf("state %s (steps %+v, result %v), want completed", st.State, st.Steps, st.Result)
	}
	if len(f.checks) != 2 || f.checks[1] != (renamewiki.CheckRenameInput{DB: workflowtest.Wiki, To: newName}) {
		t.Errorf("CheckRename ran with %v, want before and after the approval", f.checks)
	}
	for i := 1; i < len(stepOrder); i++ {
		if f.FirstCall(stepOrder[i-1]) >= f.FirstCall(stepOrder[i]) {
			t.Errorf("%s ran after %s; calls %v", stepOrder[i-1], stepOrder[i], f.Calls)
		}
	}
	for _, name := range stepOrder {
		for _, in := range f.Steps[name] {
			if in.Wiki.DB != workflowtest.Wiki || in.Args[renamewiki.ArgTo] != newName || in.Args[renamewiki.ArgSitename] != "Test Wiki" {
				t.Errorf("%s input %+v, want the old name, the new one and the sitename", name, in)
			}
		}
	}
	if len(f.Owners) != 0 || f.Called("ReleaseWiki") != 2 {
		t.Errorf("owners %v after the end (%d releases), want both names given back", f.Owners, f.Called("ReleaseWiki"))
	}
}

// Protected names, a requester without managewiki-core, an invalid or
// taken new name and a name another process owns are refused before any
// gate: no approval asked, no step run, no name owned.
func TestRenameWikiRefusals(t *testing.T) {
	cases := []struct {
		name, from, to, requester, why string
		setup                          func(f *renameFake)
	}{
		{"protected wiki", "docswiki", newName, "req", "docswiki is a protected wiki", nil},
		{"central wiki", workflowtest.Central, newName, "req", "metawiki is a protected wiki", nil},
		{"protected new name", workflowtest.Wiki, "docswiki", "req", "docswiki is a protected wiki", nil},
		{"no managewiki-core", workflowtest.Wiki, newName, "mallory", "may not request the rename", nil},
		{"taken name", workflowtest.Wiki, newName, "req", "renamedwiki is registered", func(f *renameFake) {
			f.checkErr = workflowtest.Permanent("renamedwiki is registered in cw_wikis", activities.ErrTypeWikiExists)
		}},
		{"invalid name", workflowtest.Wiki, newName, "req", "invalid new name", func(f *renameFake) {
			f.checkErr = workflowtest.Permanent("invalid new name: must end with wiki", activities.ErrTypeInvalidInput)
		}},
		{"owned by another process", workflowtest.Wiki, newName, "req", "create-wiki:renamedwiki", func(f *renameFake) {
			f.Owners[newName] = "create-wiki:renamedwiki"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env, f := newRenameEnv(t)
			if c.setup != nil {
				c.setup(f)
			}
			before := maps.Clone(f.Owners)
			runRename(env, c.from, c.to, c.requester)
			st := workflowtest.WantProcessRefused(t, env, c.why)
			if len(st.Approvals) != 0 || len(f.CallsOf("CloseForRename")) != 0 || len(f.Steps) != 0 {
				t.Errorf("approvals %v, calls %v: nothing may happen after the refusal", st.Approvals, f.Calls)
			}
			if !maps.Equal(f.Owners, before) {
				t.Errorf("owners %v after the refusal, want %v as before", f.Owners, before)
			}
		})
	}
}

// The new name taken while the rename waited: refused after the approval,
// before any step, and both names given back.
func TestRenameWikiRecheckedAfterTheApproval(t *testing.T) {
	env, f := newRenameEnv(t)
	env.RegisterDelayedCallback(func() {
		f.Locked(func() {
			f.checkErr = workflowtest.Permanent("renamedwiki is registered in cw_wikis", activities.ErrTypeWikiExists)
		})
		workflowtest.Decide(env, "o", process.DecisionApprove, "steward", "")
	}, time.Hour)
	runRename(env, workflowtest.Wiki, newName, "req")
	workflowtest.WantProcessRefused(t, env, "renamedwiki is registered")
	if len(f.Steps) != 0 || len(f.Owners) != 0 {
		t.Errorf("steps %v, owners %v: nothing may run and both names go back", f.Calls, f.Owners)
	}
}

// A step that fails stops the rename for a person (needs-attention, later
// steps not run); a steward's retry runs it again and the rename finishes.
func TestRenameWikiFailedStepIsRetried(t *testing.T) {
	env, f := newRenameEnv(t)
	f.Fail(renamewiki.NameMoveWikiTables, workflowtest.Permanent("the table page is in both databases", activities.ErrTypeNotOurs))
	var retry *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		workflowtest.Decide(env, "o", process.DecisionApprove, "steward", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateNeedsAttention || f.Called(renamewiki.NameMoveUploads) != 0 {
			t.Errorf("state %s, calls %v; want needs-attention with nothing run after the failed step", st.State, f.Calls)
		}
		workflowtest.WantStepStates(t, st, map[string]process.StepState{renamewiki.StepMoveTables: process.StepFailed, renamewiki.StepMoveFiles: process.StepBlocked})
		f.Fail(renamewiki.NameMoveWikiTables, nil)
		retry = workflowtest.Update(env, process.UpdateRetryStep, "retry-1", process.RetryRequest{User: "steward", Step: renamewiki.StepMoveTables})
	}, 3*time.Hour)
	runRename(env, workflowtest.Wiki, newName, "req")
	st := workflowtest.EndStatus(t, env)
	workflowtest.WantAccepted(t, "the steward's retry", retry)
	if st.State != process.StateCompleted || f.Called(renamewiki.NameMoveWikiTables) != 2 {
		t.Fatalf("state %s, move-tables ran %d times; want completed after the retry", st.State, f.Called(renamewiki.NameMoveWikiTables))
	}
	workflowtest.WantStepStates(t, st, map[string]process.StepState{renamewiki.StepMoveTables: process.StepSucceeded, renamewiki.StepDropOld: process.StepSucceeded})
}
