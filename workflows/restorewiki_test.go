package workflows

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

const deletedWiki = "gonewiki"

func restoreOptions() RestoreWikiOptions {
	return RestoreWikiOptions{CentralWiki: gwCentral, AttentionWindow: time.Hour, Expiry: delExpiry}
}

// restoreEnv is the gate environment with the restore's activities; the
// fake CheckRestore answers check (or fails with checkErr) and counts calls.
type restoreFake struct {
	*fakeMW
	checkErr error
	checks   int
}

func newRestoreEnv(t *testing.T) (*testsuite.TestWorkflowEnvironment, *restoreFake) {
	t.Helper()
	f := &restoreFake{fakeMW: newFakeMW()}
	f.grant("steward", gwSteward, gwCentral).grant("other", gwSteward, gwCentral)
	env := newGateEnv(t, f.fakeMW)
	env.RegisterWorkflow(RestoreWiki)
	for _, name := range activities.RestoreStepActivities {
		env.RegisterActivityWithOptions(f.step(name), activity.RegisterOptions{Name: name})
	}
	env.RegisterActivityWithOptions(func(_ context.Context, in activities.CheckRestoreInput) (activities.CheckRestoreResult, error) {
		f.mu.Lock()
		f.checks++
		f.mu.Unlock()
		if err := f.log(activities.NameCheckRestore); err != nil {
			return activities.CheckRestoreResult{}, err
		}
		if f.checkErr != nil {
			return activities.CheckRestoreResult{}, f.checkErr
		}
		return activities.CheckRestoreResult{Manifest: "/backups/" + in.DB + "/x.backup.json", ManifestSHA256: "feed", Process: DeleteWikiID(in.DB), Files: 3}, nil
	}, activity.RegisterOptions{Name: activities.NameCheckRestore})
	return env, f
}

func runRestore(env *testsuite.TestWorkflowEnvironment, requester string) {
	o := restoreOptions()
	env.ExecuteWorkflow(RestoreWiki, RestoreWikiInput{
		Wiki: deletedWiki, Requester: requester, Reason: "deleted by mistake", Options: o, Definition: RestoreWikiDefinition(o),
	})
}

// One steward approves; a plain user's and the requester's own approvals
// are refused; the name and backup are checked before and after the gate;
// the steps run in order with the backup's manifest.
func TestRestoreWikiApprovedByASteward(t *testing.T) {
	env, f := newRestoreEnv(t)
	var plain, self, ok *upd
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result["backup_manifest"] == "" || st.Result["files_count"] != "3" {
			t.Errorf("state %s result %v, want waiting-approval with the backup found", st.State, st.Result)
		}
		plain = decide(env, "p", process.DecisionApprove, "mallory", "")
		self = decide(env, "s", process.DecisionApprove, "steward", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		if f.called(activities.NameRestoreDatabase) != 0 {
			t.Error("restored before an accepted approval")
		}
		ok = decide(env, "o", process.DecisionApprove, "other", "")
	}, 2*time.Hour)
	runRestore(env, "steward")
	st := endStatus(t, env)
	if plain.err == nil || self.err == nil {
		t.Errorf("a plain user's (%v) and the requester's own (%v) approvals must be refused", plain.err, self.err)
	}
	wantAccepted(t, "the other steward's approval", ok)
	if st.State != process.StateCompleted {
		t.Fatalf("state %s (steps %+v, result %v), want completed", st.State, st.Steps, st.Result)
	}
	if f.checks != 2 {
		t.Errorf("CheckRestore ran %d times, want before and after the approval", f.checks)
	}
	order := []string{activities.NameRestoreDatabase, activities.NameRestoreUploads, activities.NameRestoreWikiRows, activities.NameReopenWiki}
	for i := 1; i < len(order); i++ {
		if f.firstCall(order[i-1]) >= f.firstCall(order[i]) {
			t.Errorf("%s ran after %s; calls %v", order[i-1], order[i], f.calls)
		}
	}
	for _, in := range f.steps[activities.NameRestoreDatabase] {
		if in.Args["backup"] != "/backups/"+deletedWiki+"/x.backup.json" || in.Args["backup_sha256"] != "feed" || in.Wiki.DB != deletedWiki {
			t.Errorf("restore-database input %+v, want the checked manifest", in)
		}
	}
	wantStepStates(t, st, map[string]string{StepRestoreDatabase: "succeeded", StepRestoreFiles: "succeeded", StepRestoreRows: "succeeded", StepReopen: "succeeded"})
}

// A taken name, no verified backup, a backup that fails its checksums:
// refused before any gate, nothing restored.
func TestRestoreWikiRefusals(t *testing.T) {
	for _, typ := range []string{activities.ErrWikiExists, activities.ErrNoVerifiedBackup, activities.ErrChecksumMismatch} {
		t.Run(typ, func(t *testing.T) {
			env, f := newRestoreEnv(t)
			f.checkErr = temporal.NewNonRetryableApplicationError("refused because "+typ, typ, nil)
			runRestore(env, "req")
			st := wantProcessRefused(t, env, "refused because "+typ)
			if len(st.Approvals) != 0 || f.called(activities.NameRestoreDatabase) != 0 {
				t.Errorf("approvals %v, calls %v: nothing may happen after the refusal", st.Approvals, f.calls)
			}
		})
	}
	t.Run("no account", func(t *testing.T) {
		env, f := newRestoreEnv(t)
		f.noAccount["ghost"] = true
		runRestore(env, "ghost")
		wantProcessRefused(t, env, "")
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
		f.checkErr = temporal.NewNonRetryableApplicationError("gonewiki is registered", activities.ErrWikiExists, nil)
		decide(env, "o", process.DecisionApprove, "steward", "")
	}, time.Hour)
	runRestore(env, "req")
	wantProcessRefused(t, env, "gonewiki is registered")
	if f.called(activities.NameRestoreDatabase) != 0 {
		t.Errorf("calls %v", f.calls)
	}
}

// The new deletion graph: nothing is removed before the whole backup is
// verified, and the removals name the verification.
func TestDeleteWikiDefinitionBacksUpEverythingFirst(t *testing.T) {
	def := DeleteWikiDefinition(deleteOptions())
	if err := def.Validate(); err != nil {
		t.Fatal(err)
	}
	steps := map[string]process.StepDef{}
	for _, s := range def.Steps {
		steps[s.Name] = s
	}
	for _, name := range []string{StepArchiveFiles, StepExportRows} {
		if !steps[name].Critical {
			t.Errorf("%s must be critical", name)
		}
	}
	for _, name := range []string{StepDropDatabase, StepRemoveRows, StepRemoveStorage} {
		s := steps[name]
		if !s.Critical || s.Params["verify_step"] != StepVerifyBackup || !requires(def, name, StepVerifyBackup) {
			t.Errorf("%s: critical %v, params %v; want critical, requiring and naming %s", name, s.Critical, s.Params, StepVerifyBackup)
		}
	}
	for _, part := range []string{StepBackup, StepArchiveFiles, StepExportRows} {
		if !requires(def, StepVerifyBackup, part) {
			t.Errorf("%s does not require %s", StepVerifyBackup, part)
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
