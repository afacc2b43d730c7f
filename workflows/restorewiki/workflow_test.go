package restorewiki_test

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/restorewiki"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

const (
	deletedWiki   = "gonewiki"
	restoreExpiry = 14 * 24 * time.Hour
)

func restoreOptions() restorewiki.RestoreWikiOptions {
	return restorewiki.RestoreWikiOptions{CentralWiki: workflowtest.Central, AttentionWindow: time.Hour, Expiry: restoreExpiry}
}

// restoreFake is the farm with the restore's activities; its CheckRestore
// answers a verified backup (or fails with checkErr) and counts its calls.
type restoreFake struct {
	*workflowtest.Farm
	checkErr error
	checks   int
}

func newRestoreEnv(t *testing.T) (*workflowtest.Env, *restoreFake) {
	t.Helper()
	f := &restoreFake{Farm: workflowtest.NewFarm()}
	f.Grant("steward", workflowtest.Steward, workflowtest.Central).Grant("other", workflowtest.Steward, workflowtest.Central)
	env := workflowtest.NewEnv(t, f.Farm, []any{restorewiki.RestoreWiki})
	for _, name := range restorewiki.RestoreStepActivities {
		env.RegisterActivityWithOptions(f.Step(name), activity.RegisterOptions{Name: name})
	}
	env.RegisterActivityWithOptions(func(_ context.Context, in restorewiki.CheckRestoreInput) (restorewiki.CheckRestoreResult, error) {
		f.Locked(func() { f.checks++ })
		if err := f.Log(restorewiki.NameCheckRestore); err != nil {
			return restorewiki.CheckRestoreResult{}, err
		}
		if f.checkErr != nil {
			return restorewiki.CheckRestoreResult{}, f.checkErr
		}
		return restorewiki.CheckRestoreResult{Manifest: "/backups/" + in.DB + "/x.backup.json", ManifestSHA256: "feed", Process: deletewiki.DeleteWikiID(in.DB), Files: 3}, nil
	}, activity.RegisterOptions{Name: restorewiki.NameCheckRestore})
	return env, f
}

func runRestore(env *workflowtest.Env, requester string) {
	o := restoreOptions()
	env.ExecuteWorkflow(restorewiki.RestoreWiki, restorewiki.RestoreWikiInput{
		Wiki: deletedWiki, Requester: requester, Reason: "deleted by mistake", Options: o, Definition: restorewiki.RestoreWikiDefinition(o),
	})
}

// One steward approves; a plain user's and the requester's own approvals
// are refused; the name and backup are checked before and after the gate;
// the steps run in order with the backup's manifest.
func TestRestoreWikiApprovedByASteward(t *testing.T) {
	env, f := newRestoreEnv(t)
	var plain, self, ok *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result["backup_manifest"] == "" || st.Result["files_count"] != "3" {
			t.Errorf("state %s result %v, want waiting-approval with the backup found", st.State, st.Result)
		}
		plain = workflowtest.Decide(env, "p", process.DecisionApprove, "mallory", "")
		self = workflowtest.Decide(env, "s", process.DecisionApprove, "steward", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		if f.Called(restorewiki.NameRestoreDatabase) != 0 {
			t.Error("restored before an accepted approval")
		}
		ok = workflowtest.Decide(env, "o", process.DecisionApprove, "other", "")
	}, 2*time.Hour)
	runRestore(env, "steward")
	st := workflowtest.EndStatus(t, env)
	if plain.Err == nil || self.Err == nil {
		t.Errorf("a plain user's (%v) and the requester's own (%v) approvals must be refused", plain.Err, self.Err)
	}
	workflowtest.WantAccepted(t, "the other steward's approval", ok)
	if st.State != process.StateCompleted {
		t.Fatalf("state %s (steps %+v, result %v), want completed", st.State, st.Steps, st.Result)
	}
	if f.checks != 2 {
		t.Errorf("CheckRestore ran %d times, want before and after the approval", f.checks)
	}
	order := []string{restorewiki.NameRestoreDatabase, restorewiki.NameRestoreUploads, restorewiki.NameRestoreWikiRows, deletewiki.NameReopenWiki}
	for i := 1; i < len(order); i++ {
		if f.FirstCall(order[i-1]) >= f.FirstCall(order[i]) {
			t.Errorf("%s ran after %s; calls %v", order[i-1], order[i], f.Calls)
		}
	}
	for _, in := range f.Steps[restorewiki.NameRestoreDatabase] {
		if in.Args["backup"] != "/backups/"+deletedWiki+"/x.backup.json" || in.Args["backup_sha256"] != "feed" || in.Wiki.DB != deletedWiki {
			t.Errorf("restore-database input %+v, want the checked manifest", in)
		}
	}
	workflowtest.WantStepStates(t, st, map[string]process.StepState{restorewiki.StepRestoreDatabase: "succeeded", restorewiki.StepRestoreFiles: "succeeded", restorewiki.StepRestoreRows: "succeeded", restorewiki.StepReopen: "succeeded"})
}

// A taken name, no verified backup, a backup that fails its checksums:
// refused before any gate, nothing restored.
func TestRestoreWikiRefusals(t *testing.T) {
	for _, typ := range []string{activities.ErrTypeWikiExists, activities.ErrTypeNoVerifiedBackup, activities.ErrTypeChecksumMismatch} {
		t.Run(typ, func(t *testing.T) {
			env, f := newRestoreEnv(t)
			f.checkErr = workflowtest.Permanent("refused because "+typ, typ)
			runRestore(env, "req")
			st := workflowtest.WantProcessRefused(t, env, "refused because "+typ)
			if len(st.Approvals) != 0 || f.Called(restorewiki.NameRestoreDatabase) != 0 {
				t.Errorf("approvals %v, calls %v: nothing may happen after the refusal", st.Approvals, f.Calls)
			}
		})
	}
	t.Run("no account", func(t *testing.T) {
		env, f := newRestoreEnv(t)
		f.NoAccount["ghost"] = true
		runRestore(env, "ghost")
		workflowtest.WantProcessRefused(t, env, "")
		if f.checks != 0 {
			t.Error("checked the backup for a requester who is no account")
		}
	})
}

// The name taken while the restore waited: refused after the approval,
// before any step.
func TestRestoreWikiRecheckedAfterTheApproval(t *testing.T) {
	env, f := newRestoreEnv(t)
	env.RegisterDelayedCallback(func() {
		f.checkErr = workflowtest.Permanent("gonewiki is registered", activities.ErrTypeWikiExists)
		workflowtest.Decide(env, "o", process.DecisionApprove, "steward", "")
	}, time.Hour)
	runRestore(env, "req")
	workflowtest.WantProcessRefused(t, env, "gonewiki is registered")
	if f.Called(restorewiki.NameRestoreDatabase) != 0 {
		t.Errorf("calls %v", f.Calls)
	}
}
