package changesetting_test

import (
	"slices"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

// settingFake: req holds managewiki-settings on the wiki; steward holds
// managewiki-restricted on the central wiki; localadmin holds it only on
// the wiki itself, which does not count. The validation says whether the
// setting is restricted; the apply step reports old and new values.
func settingFake(restricted bool) *workflowtest.Farm {
	f := workflowtest.NewFarm()
	f.Grant("req", process.RightManageWikiSettings, workflowtest.Wiki).Grant("steward", workflowtest.Steward, workflowtest.Central).
		Grant("localadmin", workflowtest.Steward, workflowtest.Wiki).Grant("localadmin", process.RightManageWikiSettings, workflowtest.Wiki)
	f.Outputs[changesetting.NameValidateSettingChange] = map[string]string{
		changesetting.SettingOutName: "wgMaxArticleSize", changesetting.SettingOutRestricted: boolText(restricted), changesetting.SettingOutValue: "4096",
	}
	f.Outputs[changesetting.NameApplySetting] = map[string]string{
		changesetting.SettingOutOld: "2048", changesetting.SettingOutOldSet: "true", changesetting.SettingOutNew: "4096",
	}
	return f
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// newEnv is the test environment of a setting change.
func newEnv(t *testing.T, f *workflowtest.Farm) *workflowtest.Env {
	t.Helper()
	return workflowtest.NewEnv(t, f, []any{changesetting.ChangeSetting})
}

func runSetting(env *workflowtest.Env) {
	env.ExecuteWorkflow(changesetting.ChangeSetting, workflowtest.SettingInput("req", "long pages"))
}

func TestChangeSettingUnrestrictedAppliesAtOnce(t *testing.T) {
	f := settingFake(false)
	env := newEnv(t, f)
	runSetting(env)
	st := workflowtest.EndStatus(t, env)

	if st.State != process.StateCompleted || st.Ended != st.Started {
		t.Fatalf("state %s after %v, want completed at once", st.State, workflowtest.Elapsed(st, st.Ended))
	}
	if f.Called(changesetting.NameApplySetting) != 1 {
		t.Fatalf("ApplySetting called %d times, want once", f.Called(changesetting.NameApplySetting))
	}
	if st.Result["old"] != "2048" || st.Result["new"] != "4096" || st.Result["restricted"] != "" {
		t.Errorf("result %v: want old 2048, new 4096, not restricted", st.Result)
	}
	in := f.Steps[changesetting.NameApplySetting][0]
	if in.Wiki.DB != workflowtest.Wiki || in.Args["setting"] != "wgMaxArticleSize" || in.Args["value"] != "4096" || in.Requester != "req" {
		t.Errorf("ApplySetting input %+v", in)
	}
	v := f.Steps[changesetting.NameValidateSettingChange]
	if len(v) != 1 || v[0].Args["setting"] != "wgMaxArticleSize" || v[0].Args["value"] != "4096" {
		t.Errorf("ValidateSettingChange inputs %+v", v)
	}
	if len(st.Approvals) != 0 {
		t.Errorf("approvals %+v for an unrestricted setting", st.Approvals)
	}
	if f.FirstCall(changesetting.NameValidateSettingChange) > f.FirstCall(activities.NameCheckRights) ||
		f.FirstCall(activities.NameCheckRights) > f.FirstCall(changesetting.NameApplySetting) {
		t.Errorf("calls %v: want validate, check the requester, apply", f.Calls)
	}
	workflowtest.WantStepStates(t, st, map[string]process.StepState{changesetting.StepApplySetting: "succeeded"})
}

func TestChangeSettingRestrictedWaitsForAStewardOnTheCentralWiki(t *testing.T) {
	f := settingFake(true)
	env := newEnv(t, f)
	var local, self, steward *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result["restricted"] != "true" {
			t.Errorf("state %s restricted %q, want waiting-approval", st.State, st.Result["restricted"])
		}
		if f.Called(changesetting.NameApplySetting) != 0 {
			t.Error("applied before the approval")
		}
		local = workflowtest.Decide(env, "a1", process.DecisionApprove, "localadmin", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() { self = workflowtest.Decide(env, "a2", process.DecisionApprove, "req", "") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		if f.Called(changesetting.NameApplySetting) != 0 {
			t.Error("applied after a refused approval")
		}
		steward = workflowtest.Decide(env, "a3", process.DecisionApprove, "steward", "ok")
	}, 3*time.Hour)
	runSetting(env)
	st := workflowtest.EndStatus(t, env)

	workflowtest.WantRefused(t, "holder of the right on the wiki only", local, workflowtest.DeniedReason("localadmin", workflowtest.Central, []process.Right{workflowtest.Steward}))
	workflowtest.WantRefused(t, "self-approval", self, "the requester may not approve their own request")
	workflowtest.WantAccepted(t, "steward", steward)
	if st.State != process.StateCompleted || workflowtest.Elapsed(st, st.Ended) != 3*time.Hour {
		t.Fatalf("state %s after %v, want completed right after the approval", st.State, workflowtest.Elapsed(st, st.Ended))
	}
	if f.Called(changesetting.NameApplySetting) != 1 || st.Result["old"] != "2048" || st.Result["new"] != "4096" {
		t.Errorf("apply %d, result %v", f.Called(changesetting.NameApplySetting), st.Result)
	}
	workflowtest.WantRecords(t, st.Approvals,
		workflowtest.Rec("localadmin", process.DecisionApprove, false, workflowtest.DeniedReason("localadmin", workflowtest.Central, []process.Right{workflowtest.Steward})),
		workflowtest.Rec("req", process.DecisionApprove, false, "own request"),
		workflowtest.Rec("steward", process.DecisionApprove, true, ""))
}

func TestChangeSettingDeclinedIsNeverApplied(t *testing.T) {
	f := settingFake(true)
	env := newEnv(t, f)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(process.SignalDecline, process.DecisionSignal{User: "steward", Comment: "no"})
	}, time.Hour)
	runSetting(env)
	st := workflowtest.EndStatus(t, env)
	if st.State != process.StateDeclined {
		t.Fatalf("state %s, want declined", st.State)
	}
	if f.Called(changesetting.NameApplySetting) != 0 {
		t.Error("ApplySetting called after a decline")
	}
	if st.Result["old"] != "" || st.Result["new"] != "" {
		t.Errorf("result %v", st.Result)
	}
}

func TestChangeSettingRestrictedExpires(t *testing.T) {
	f := settingFake(true)
	env := newEnv(t, f)
	runSetting(env)
	st := workflowtest.EndStatus(t, env)
	if st.State != process.StateExpired || workflowtest.Elapsed(st, st.Ended) != workflowtest.SettingExpiry {
		t.Fatalf("state %s after %v, want expired after %v", st.State, workflowtest.Elapsed(st, st.Ended), workflowtest.SettingExpiry)
	}
	if f.Called(changesetting.NameApplySetting) != 0 {
		t.Error("ApplySetting called after the expiry")
	}
}

func TestChangeSettingRequesterMayCancel(t *testing.T) {
	f := settingFake(true)
	env := newEnv(t, f)
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() { u = workflowtest.Decide(env, "c1", process.DecisionCancel, "req", "") }, time.Hour)
	runSetting(env)
	st := workflowtest.EndStatus(t, env)
	workflowtest.WantAccepted(t, "cancel", u)
	if st.State != process.StateCancelled || f.Called(changesetting.NameApplySetting) != 0 {
		t.Errorf("state %s, apply %d", st.State, f.Called(changesetting.NameApplySetting))
	}
}

func wantSettingRefused(t *testing.T, env *workflowtest.Env, msg string) process.Status {
	t.Helper()
	return workflowtest.WantProcessRefused(t, env, msg)
}

func TestChangeSettingInvalidValueFails(t *testing.T) {
	f := settingFake(false)
	const msg = "wgMaxArticleSize: \"big\" is not an integer"
	f.Fail(changesetting.NameValidateSettingChange, workflowtest.Permanent(msg, activities.ErrTypeInvalidInput))
	env := newEnv(t, f)
	runSetting(env)
	wantSettingRefused(t, env, msg)
	if f.Called(changesetting.NameValidateSettingChange) != 1 {
		t.Errorf("validation ran %d times: a permanent error is not retried", f.Called(changesetting.NameValidateSettingChange))
	}
	if f.Called(changesetting.NameApplySetting) != 0 || f.Called(activities.NameCheckRights) != 0 {
		t.Errorf("calls %v: nothing runs after an invalid value", f.Calls)
	}
}

func TestChangeSettingRequesterWithoutRightIsRefused(t *testing.T) {
	f := settingFake(false)
	env := newEnv(t, f)
	env.ExecuteWorkflow(changesetting.ChangeSetting, workflowtest.SettingInput("mallory", ""))
	wantSettingRefused(t, env, workflowtest.DeniedReason("mallory", workflowtest.Wiki, []process.Right{process.RightManageWikiSettings}))
	if f.Called(changesetting.NameApplySetting) != 0 {
		t.Error("ApplySetting called for a refused requester")
	}
	if !slices.ContainsFunc(f.Authz, func(a process.AuthorizeInput) bool {
		return a.User == "mallory" && a.Wiki == workflowtest.Wiki && slices.Equal(a.AnyRight, []process.Right{process.RightManageWikiSettings})
	}) {
		t.Errorf("rights checks %+v", f.Authz)
	}
}

// A stranger's cancel of a gate without an override right must be refused
// with a readable reason.
//
// Bug: Gate.judge formats "only the requester or a holder of %s may cancel"
// with policy.OverrideRight, which ChangeSetting (and RequestWiki) leave
// empty: the reason reads "a holder of  may cancel".
func TestChangeSettingCancelByStrangerReason(t *testing.T) {
	f := settingFake(true)
	env := newEnv(t, f)
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() { u = workflowtest.Decide(env, "c1", process.DecisionCancel, "mallory", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "c2", process.DecisionCancel, "req", "") }, 2*time.Hour)
	runSetting(env)
	workflowtest.EndStatus(t, env)
	workflowtest.WantRefused(t, "cancel by a stranger", u, "only the requester may cancel")
}
