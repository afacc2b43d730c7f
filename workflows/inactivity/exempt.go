package inactivity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
)

// ExemptInput grants (or, with Clear, ends) a wiki's exemption from the
// inactivity policy, on behalf of User, who must hold
// managewiki-restricted on the central wiki.
type ExemptInput struct {
	Wiki    string
	Central string
	User    string
	Reason  string
	// Until is the exemption's expiry; zero: it does not expire.
	Until time.Time `json:",omitzero"`
	Clear bool      `json:",omitempty"`
}

// ExemptResult says what was written, for whom.
type ExemptResult struct {
	User    string // the steward, as MediaWiki names them
	Summary string
}

// Exempt checks the steward's rights with MediaWiki, then writes the
// exemption into cw_wikis (CreateWiki's wiki_inactive_exempt columns) and
// logs it. A wiki's running inactivity process reads it at its next stage.
func Exempt(ctx workflow.Context, in ExemptInput) (ExemptResult, error) {
	if !in.Clear && strings.TrimSpace(in.Reason) == "" {
		return ExemptResult{}, temporal.NewNonRetryableApplicationError("an exemption needs a reason", process.ErrTypeRefused, nil)
	}
	auth, err := workflows.CheckRight(ctx, "check "+in.User, in.User, in.Central, process.RightManageWikiRestricted)
	if err != nil {
		return ExemptResult{}, err
	}
	if !auth.Allowed {
		return ExemptResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("only a holder of %s on %s may exempt a wiki from the inactivity policy: %s", process.RightManageWikiRestricted, in.Central, auth.Reason),
			process.ErrTypeRefused, nil)
	}
	step := process.StepInput{
		ProcessID: workflow.GetInfo(ctx).WorkflowExecution.ID, Kind: KindInactivity, Step: NameSetExemption,
		Wiki: process.WikiSpec{DB: in.Wiki}, Requester: auth.User,
		Args:   map[string]string{"reason": in.Reason, "clear": fmt.Sprint(in.Clear)},
		Params: map[string]string{activities.ParamCentralWiki: in.Central},
	}
	if !in.Until.IsZero() {
		step.Args["until"] = in.Until.UTC().Format(time.RFC3339)
	}
	var res process.StepResult
	if err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "write the exemption"), NameSetExemption, step).Get(ctx, &res); err != nil {
		return ExemptResult{}, err
	}
	return ExemptResult{User: auth.User, Summary: res.Summary}, nil
}

// NameSetExemption is SetExemption's registered name.
const NameSetExemption = "SetExemption"

// SetExemption writes or clears the exemption and logs managewiki/exempt
// (or managewiki/unexempt) on the central wiki, performed by the steward.
func (f *Activities) SetExemption(ctx context.Context, in process.StepInput) (process.StepResult, error) {
	db, err := activities.WikiDB(in)
	if err != nil {
		return process.StepResult{}, err
	}
	action, summary := "exempt", ""
	if in.Args["clear"] == "true" {
		action, summary = "unexempt", fmt.Sprintf("%s is no longer exempt from the inactivity policy", db)
		err = f.Central.ClearInactivityExemption(ctx, db)
	} else {
		var until time.Time
		if v := in.Args["until"]; v != "" {
			if until, err = time.Parse(time.RFC3339, v); err != nil {
				return process.StepResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "the argument until must be an RFC 3339 time: %v", err)
			}
		}
		summary = fmt.Sprintf("%s is exempt from the inactivity policy: %s", db, in.Args["reason"])
		if !until.IsZero() {
			summary += " (until " + until.UTC().Format(time.RFC3339) + ")"
		}
		err = f.Central.SetInactivityExemption(ctx, db, in.Args["reason"], until)
	}
	if err != nil {
		return process.StepResult{}, activities.CentralErr(db, err)
	}
	central := f.CentralHint(in.Params[activities.ParamCentralWiki], "")
	if err := f.WriteLog(ctx, activities.LogEntry{
		Wiki: activities.OrDefault(central, db), Central: true, Type: activities.LogManageWiki, Action: action,
		Performer: in.Requester, Comment: in.Args["reason"], Target: "Special:Processes",
		Params: map[string]any{"4::wiki": db}, Key: activities.StepKey(ctx, in, "managewiki/"+action),
	}); err != nil {
		return process.StepResult{}, err
	}
	return process.StepResult{Summary: summary}, nil
}
