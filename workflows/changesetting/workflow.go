// Package changesetting is a change of one ManageWiki setting: validation against
// the registry, a steward's approval for restricted settings, and the write.
package changesetting

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
)

// KindChangeSetting is the process kind of a ManageWiki setting change.
const KindChangeSetting = "change-setting"

// ChangeSettingID is the workflow ID of a change: one pending change per
// setting and wiki, so a duplicate request is refused while one waits.
func ChangeSettingID(db, setting string) string { return KindChangeSetting + ":" + db + ":" + setting }

// StepApplySetting is the one step of a change.
const StepApplySetting = "apply"

// ChangeSettingOptions are the farm's choices for setting changes;
// Expiry ends an unapproved restricted change.
type ChangeSettingOptions = workflows.StewardOptions

// ChangeSettingDefinition applies the change; retry and abort of the step
// are for stewards.
func ChangeSettingDefinition(o ChangeSettingOptions) process.Definition {
	return process.Definition{
		Kind: KindChangeSetting,
		Steps: []process.StepDef{{
			Name: StepApplySetting, Activity: NameApplySetting, Critical: true, StartToClose: time.Minute,
			Retry: process.TransientRetry(o.RetryBudget),
		}},
		AttentionWindow: o.AttentionWindow,
		Authorize: process.AuthorizeDef{
			Activity: activities.NameCheckRights, Wiki: o.CentralWiki, AnyRight: []process.Right{process.RightManageWikiRestricted},
		},
	}
}

// ChangeSettingInput is one requested change: Value is JSON text.
type ChangeSettingInput struct {
	Wiki       string
	Setting    string
	Value      string
	Requester  string
	Reason     string
	Options    ChangeSettingOptions
	Definition process.Definition
}

// ChangeSettingResult: Status.Result holds old and new values.
type ChangeSettingResult struct {
	Status process.Status
}

// ChangeSetting validates the change (known setting, valid value, open
// wiki, requester with managewiki-settings there); a restricted setting then
// waits for one holder of managewiki-restricted on the central wiki; the
// change is applied as a read-modify-write that keeps every other key.
func ChangeSetting(ctx workflow.Context, in ChangeSettingInput) (ChangeSettingResult, error) {
	c := &settingChange{in: in, requester: process.Person{Name: in.Requester}}
	c.St = workflows.NewStatus(ctx, KindChangeSetting, in.Wiki, in.Requester,
		map[string]string{"setting": in.Setting, "value": in.Value, "reason": in.Reason})
	err := c.Run(ctx, c.run)
	return ChangeSettingResult{Status: *c.St}, err
}

type settingChange struct {
	workflows.Frame // Gate: the steward's approval of a restricted setting
	in              ChangeSettingInput
	requester       process.Person // who MediaWiki says the requester is
}

func (c *settingChange) run(ctx workflow.Context) error {
	var f *Activities
	in, st := c.in, c.St
	c.ByPerson = workflows.KnowsPeople(ctx)
	step := process.StepInput{
		ProcessID: st.ID, Kind: KindChangeSetting, Step: "validate", Wiki: process.WikiSpec{DB: in.Wiki},
		Requester: in.Requester, Args: map[string]string{"setting": in.Setting, "value": in.Value},
	}
	var valid process.StepResult
	if err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "validate"), f.ValidateSettingChange, step).Get(ctx, &valid); err != nil {
		if why, ok := workflows.IsRefusal(err); c.ByPerson && ok {
			return workflows.Refuse(st, "%s", why)
		}
		var app *temporal.ApplicationError
		if errors.As(err, &app) && app.NonRetryable() && !c.ByPerson {
			return workflows.Refuse(st, "%s", app.Message())
		}
		return err
	}
	auth, err := workflows.CheckRight(ctx, "check the requester", in.Requester, in.Wiki, process.RightManageWikiSettings)
	if err != nil {
		return err
	}
	if c.ByPerson {
		if err := workflows.Identify(ctx, st, auth, &c.requester); err != nil {
			return err
		}
	}
	if !auth.Allowed {
		return workflows.Refuse(st, "%s may not change settings of %s: %s", c.requester.Name, in.Wiki, auth.Reason)
	}
	c.Accept()
	if valid.Outputs[SettingOutRestricted] == "true" {
		st.Result["restricted"] = "true"
		if approved, err := c.AwaitSteward(ctx, in.Options, in.Wiki, c.requester); err != nil || !approved {
			return err
		}
	}
	res, err := c.RunSteps(ctx, in.Definition, in.Wiki, c.requester, map[string]string{"setting": in.Setting, "value": in.Value, "reason": in.Reason})
	if out := res.StepOutputs[StepApplySetting]; out != nil {
		st.Result["old"] = out["old"]
		st.Result["new"] = out["new"]
	}
	return err
}
