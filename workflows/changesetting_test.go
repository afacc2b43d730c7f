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

const settingExpiry = 3 * 24 * time.Hour

// settingFake: req holds managewiki-settings on the wiki; steward holds
// managewiki-restricted on the central wiki; localadmin holds it only on
// the wiki itself, which does not count. The validation says whether the
// setting is restricted; the apply step reports old and new values.
func settingFake(restricted bool) *fakeMW {
	f := newFakeMW()
	f.grant("req", process.RightManageWikiSettings, gwWiki).grant("steward", gwSteward, gwCentral).
		grant("localadmin", gwSteward, gwWiki).grant("localadmin", process.RightManageWikiSettings, gwWiki)
	f.outputs[activities.NameValidateSettingChange] = map[string]string{
		activities.SettingOutName: "wgMaxArticleSize", activities.SettingOutRestricted: boolText(restricted), activities.SettingOutValue: "4096",
	}
	f.outputs[activities.NameApplySetting] = map[string]string{
		activities.SettingOutOld: "2048", activities.SettingOutOldSet: "true", activities.SettingOutNew: "4096",
	}
	return f
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func runSetting(env *testsuite.TestWorkflowEnvironment) {
	o := ChangeSettingOptions{CentralWiki: gwCentral, AttentionWindow: time.Hour, Expiry: settingExpiry}
	env.ExecuteWorkflow(ChangeSetting, ChangeSettingInput{
		Wiki: gwWiki, Setting: "wgMaxArticleSize", Value: "4096", Requester: "req", Reason: "long pages",
		Options: o, Definition: ChangeSettingDefinition(o),
	})
}

func TestChangeSettingUnrestrictedAppliesAtOnce(t *testing.T) {
	f := settingFake(false)
	env := newGateEnv(t, f)
	runSetting(env)
	st := endStatus(t, env)

	if st.State != process.StateCompleted || st.Ended != st.Started {
		t.Fatalf("state %s after %v, want completed at once", st.State, elapsed(st, st.Ended))
	}
	if f.called(activities.NameApplySetting) != 1 {
		t.Fatalf("ApplySetting called %d times, want once", f.called(activities.NameApplySetting))
	}
	if st.Result["old"] != "2048" || st.Result["new"] != "4096" || st.Result["restricted"] != "" {
		t.Errorf("result %v: want old 2048, new 4096, not restricted", st.Result)
	}
	in := f.steps[activities.NameApplySetting][0]
	if in.Wiki.DB != gwWiki || in.Args["setting"] != "wgMaxArticleSize" || in.Args["value"] != "4096" || in.Requester != "req" {
		t.Errorf("ApplySetting input %+v", in)
	}
	v := f.steps[activities.NameValidateSettingChange]
	if len(v) != 1 || v[0].Args["setting"] != "wgMaxArticleSize" || v[0].Args["value"] != "4096" {
		t.Errorf("ValidateSettingChange inputs %+v", v)
	}
	if len(st.Approvals) != 0 {
		t.Errorf("approvals %+v for an unrestricted setting", st.Approvals)
	}
	if f.firstCall(activities.NameValidateSettingChange) > f.firstCall(activities.NameCheckRights) ||
		f.firstCall(activities.NameCheckRights) > f.firstCall(activities.NameApplySetting) {
		t.Errorf("calls %v: want validate, check the requester, apply", f.calls)
	}
	wantStepStates(t, st, map[string]string{StepApplySetting: "succeeded"})
}

func TestChangeSettingRestrictedWaitsForAStewardOnTheCentralWiki(t *testing.T) {
	f := settingFake(true)
	env := newGateEnv(t, f)
	var local, self, steward *upd
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result["restricted"] != "true" {
			t.Errorf("state %s restricted %q, want waiting-approval", st.State, st.Result["restricted"])
		}
		if f.called(activities.NameApplySetting) != 0 {
			t.Error("applied before the approval")
		}
		local = decide(env, "a1", process.DecisionApprove, "localadmin", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() { self = decide(env, "a2", process.DecisionApprove, "req", "") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		if f.called(activities.NameApplySetting) != 0 {
			t.Error("applied after a refused approval")
		}
		steward = decide(env, "a3", process.DecisionApprove, "steward", "ok")
	}, 3*time.Hour)
	runSetting(env)
	st := endStatus(t, env)

	wantRefused(t, "holder of the right on the wiki only", local, deniedReason("localadmin", gwCentral, []string{gwSteward}))
	wantRefused(t, "self-approval", self, "the requester may not approve their own request")
	wantAccepted(t, "steward", steward)
	if st.State != process.StateCompleted || elapsed(st, st.Ended) != 3*time.Hour {
		t.Fatalf("state %s after %v, want completed right after the approval", st.State, elapsed(st, st.Ended))
	}
	if f.called(activities.NameApplySetting) != 1 || st.Result["old"] != "2048" || st.Result["new"] != "4096" {
		t.Errorf("apply %d, result %v", f.called(activities.NameApplySetting), st.Result)
	}
	wantRecords(t, st.Approvals,
		rec("localadmin", process.DecisionApprove, false, deniedReason("localadmin", gwCentral, []string{gwSteward})),
		rec("req", process.DecisionApprove, false, "own request"),
		rec("steward", process.DecisionApprove, true, ""))
}

func TestChangeSettingDeclinedIsNeverApplied(t *testing.T) {
	f := settingFake(true)
	env := newGateEnv(t, f)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(process.SignalDecline, process.Decision{User: "steward", Comment: "no"})
	}, time.Hour)
	runSetting(env)
	st := endStatus(t, env)
	if st.State != process.StateDeclined {
		t.Fatalf("state %s, want declined", st.State)
	}
	if f.called(activities.NameApplySetting) != 0 {
		t.Error("ApplySetting called after a decline")
	}
	if st.Result["old"] != "" || st.Result["new"] != "" {
		t.Errorf("result %v", st.Result)
	}
}

func TestChangeSettingRestrictedExpires(t *testing.T) {
	f := settingFake(true)
	env := newGateEnv(t, f)
	runSetting(env)
	st := endStatus(t, env)
	if st.State != process.StateExpired || elapsed(st, st.Ended) != settingExpiry {
		t.Fatalf("state %s after %v, want expired after %v", st.State, elapsed(st, st.Ended), settingExpiry)
	}
	if f.called(activities.NameApplySetting) != 0 {
		t.Error("ApplySetting called after the expiry")
	}
}

func TestChangeSettingRequesterMayCancel(t *testing.T) {
	f := settingFake(true)
	env := newGateEnv(t, f)
	var u *upd
	env.RegisterDelayedCallback(func() { u = decide(env, "c1", process.DecisionCancel, "req", "") }, time.Hour)
	runSetting(env)
	st := endStatus(t, env)
	wantAccepted(t, "cancel", u)
	if st.State != process.StateCancelled || f.called(activities.NameApplySetting) != 0 {
		t.Errorf("state %s, apply %d", st.State, f.called(activities.NameApplySetting))
	}
}

func wantSettingRefused(t *testing.T, env *testsuite.TestWorkflowEnvironment, msg string) process.Status {
	t.Helper()
	return wantProcessRefused(t, env, msg)
}

func TestChangeSettingInvalidValueFails(t *testing.T) {
	f := settingFake(false)
	const msg = "wgMaxArticleSize: \"big\" is not an integer"
	f.fail(activities.NameValidateSettingChange, temporal.NewNonRetryableApplicationError(msg, activities.ErrInvalidInput, nil))
	env := newGateEnv(t, f)
	runSetting(env)
	wantSettingRefused(t, env, msg)
	if f.called(activities.NameValidateSettingChange) != 1 {
		t.Errorf("validation ran %d times: a permanent error is not retried", f.called(activities.NameValidateSettingChange))
	}
	if f.called(activities.NameApplySetting) != 0 || f.called(activities.NameCheckRights) != 0 {
		t.Errorf("calls %v: nothing runs after an invalid value", f.calls)
	}
}

func TestChangeSettingRequesterWithoutRightIsRefused(t *testing.T) {
	f := settingFake(false)
	env := newGateEnv(t, f)
	o := ChangeSettingOptions{CentralWiki: gwCentral, AttentionWindow: time.Hour, Expiry: settingExpiry}
	env.ExecuteWorkflow(ChangeSetting, ChangeSettingInput{
		Wiki: gwWiki, Setting: "wgMaxArticleSize", Value: "4096", Requester: "mallory",
		Options: o, Definition: ChangeSettingDefinition(o),
	})
	wantSettingRefused(t, env, deniedReason("mallory", gwWiki, []string{process.RightManageWikiSettings}))
	if f.called(activities.NameApplySetting) != 0 {
		t.Error("ApplySetting called for a refused requester")
	}
	if !slices.ContainsFunc(f.authz, func(a process.AuthorizeInput) bool {
		return a.User == "mallory" && a.Wiki == gwWiki && slices.Equal(a.AnyRight, []string{process.RightManageWikiSettings})
	}) {
		t.Errorf("rights checks %+v", f.authz)
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
	env := newGateEnv(t, f)
	var u *upd
	env.RegisterDelayedCallback(func() { u = decide(env, "c1", process.DecisionCancel, "mallory", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { decide(env, "c2", process.DecisionCancel, "req", "") }, 2*time.Hour)
	runSetting(env)
	endStatus(t, env)
	wantRefused(t, "cancel by a stranger", u, "only the requester may cancel")
}
