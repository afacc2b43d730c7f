package extension_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/extensions"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/extension"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

const registry = `{"extensions": {
	"Filter": {"description": "f", "sql": ["extensions/Filter/a.sql", "extensions/Filter/b.sql"], "tables": ["fa", "fb"],
		"permissions": {"sysop": ["filter-modify"]}, "scripts": [{"script": "extensions/Filter/maintenance/rebuild.php"}]},
	"Secure": {"description": "s", "restricted": true}
}}`

func newEnv(t *testing.T, f *workflowtest.Farm) *workflowtest.Env {
	env := workflowtest.NewEnv(t, f, []any{extension.ChangeExtension})
	for _, name := range append([]string{extension.NameValidateExtensionChange}, extension.StepActivities...) {
		env.RegisterActivityWithOptions(f.Step(name), activity.RegisterOptions{Name: name})
	}
	return env
}

func input(t *testing.T, name string, enable bool, f *workflowtest.Farm) extension.Input {
	r, err := extensions.Parse([]byte(registry))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := r.Get(name)
	o := extension.Options{CentralWiki: workflowtest.Central, AttentionWindow: time.Hour, Expiry: 24 * time.Hour}
	f.Outputs[extension.NameValidateExtensionChange] = map[string]string{extension.OutRestricted: map[bool]string{true: "true", false: "false"}[e.Restricted]}
	return extension.Input{Wiki: workflowtest.Wiki, Extension: name, Enable: enable, Requester: "crat", Reason: "r",
		Options: o, Definition: extension.Definition(e, enable, o)}
}

// Enabling runs the SQL files and the rights, then the script, and puts
// the extension in s_extensions last.
func TestEnablingInstallsBeforeTheWikiLoadsIt(t *testing.T) {
	f := workflowtest.NewFarm().Grant("crat", process.RightManageWikiExtensions, workflowtest.Wiki)
	env := newEnv(t, f)
	env.ExecuteWorkflow(extension.ChangeExtension, input(t, "Filter", true, f))
	st := workflowtest.EndStatus(t, env)
	if st.State != process.StateCompleted {
		t.Fatalf("state %s %v", st.State, st.Result)
	}
	steps := f.CallsOf("")
	set := slices.Index(steps, extension.NameSetExtension)
	for _, before := range []string{extension.NameSourceExtensionSQL, extension.NameChangeExtensionRights, activities.NameRunMaintenanceScript} {
		if i := slices.Index(steps, before); i < 0 || i > set {
			t.Errorf("%s at %d, SetExtension at %d in %v: everything it needs comes first", before, i, set, steps)
		}
	}
	if n := len(f.Steps[extension.NameSourceExtensionSQL]); n != 2 {
		t.Errorf("%d SQL steps, want one per file", n)
	}
	if got := f.Steps[extension.NameSetExtension][0].Args; got[extension.ArgExtension] != "Filter" || got[extension.ArgEnable] != "true" {
		t.Errorf("SetExtension args %v", got)
	}
}

// A step that fails for a while is retried, and the change completes.
func TestAFailedStepIsRetried(t *testing.T) {
	f := workflowtest.NewFarm().Grant("crat", process.RightManageWikiExtensions, workflowtest.Wiki)
	calls := 0
	f.Hook(extension.NameSourceExtensionSQL, func() error {
		if calls++; calls <= 2 {
			return errors.New("connection refused")
		}
		return nil
	})
	env := newEnv(t, f)
	env.ExecuteWorkflow(extension.ChangeExtension, input(t, "Filter", true, f))
	if st := workflowtest.EndStatus(t, env); st.State != process.StateCompleted || f.Called(extension.NameSetExtension) != 1 {
		t.Fatalf("state %s, SetExtension called %d times", st.State, f.Called(extension.NameSetExtension))
	}
}

// Without managewiki-extensions the request is refused and nothing runs.
func TestRequesterWithoutTheRightChangesNothing(t *testing.T) {
	f := workflowtest.NewFarm()
	env := newEnv(t, f)
	env.ExecuteWorkflow(extension.ChangeExtension, input(t, "Filter", true, f))
	workflowtest.WantProcessRefused(t, env, "may not change the extensions")
	for _, name := range extension.StepActivities {
		if f.Called(name) != 0 {
			t.Errorf("%s ran for a refused request", name)
		}
	}
}

// A restricted extension waits for a steward; a bureaucrat's approval is
// refused and moves nothing.
func TestRestrictedExtensionWaitsForASteward(t *testing.T) {
	f := workflowtest.NewFarm().Grant("crat", process.RightManageWikiExtensions, workflowtest.Wiki).
		Grant("other", process.RightManageWikiExtensions, workflowtest.Wiki).Grant("steward", workflowtest.Steward, workflowtest.Central)
	env := newEnv(t, f)
	var bureaucrat, steward *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		bureaucrat = workflowtest.DecideWhileWaiting(t, env, "after an hour", "b", process.DecisionApprove, "other", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		if f.Called(extension.NameSetExtension) != 0 {
			t.Error("the extension was enabled before a steward approved")
		}
		steward = workflowtest.DecideWhileWaiting(t, env, "after two hours", "s", process.DecisionApprove, "steward", "")
	}, 2*time.Hour)
	env.ExecuteWorkflow(extension.ChangeExtension, input(t, "Secure", true, f))
	st := workflowtest.EndStatus(t, env)
	workflowtest.WantRefused(t, "a bureaucrat's approval", bureaucrat, "managewiki-restricted")
	workflowtest.WantAccepted(t, "the steward's approval", steward)
	if st.State != process.StateCompleted || f.Called(extension.NameSetExtension) != 1 {
		t.Errorf("state %s, SetExtension %d times; want completed once approved", st.State, f.Called(extension.NameSetExtension))
	}
}
