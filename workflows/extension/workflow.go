// Package extension enables and disables an extension on one wiki: the
// registry's install steps (SQL, rights, maintenance scripts) as idempotent
// steps of the engine, a steward's approval for restricted extensions, and
// the wiki's s_extensions changed last, once everything it needs is there.
package extension

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/extensions"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
)

// Kinds of extension changes.
const (
	KindEnable  = "enable-extension"
	KindDisable = "disable-extension"
)

// ChangeID is the workflow ID of a change: one at a time per kind, wiki
// and extension.
func ChangeID(kind, db, name string) string { return kind + ":" + db + ":" + name }

// Step names.
const (
	StepRights = "rights"
	StepSet    = "set"
)

// Options are the farm's choices for extension changes (a restricted one
// waits for a steward).
type Options = workflows.StewardOptions

// Definition is the change's step graph, from the extension's registry
// entry. Enabling: each SQL file, the rights, then the maintenance scripts
// in order, and only then the extension in s_extensions, so a wiki never
// loads an extension whose tables are missing. Disabling: out of
// s_extensions first, then its rights; its tables and rows stay.
func Definition(e extensions.Extension, enable bool, o Options) process.Definition {
	retry := process.TransientRetry(o.RetryBudget)
	// Rights and s_extensions are a few rows and an API call: a minute, so
	// that a worker lost in the middle is replaced soon. SQL files heartbeat
	// as they go; scripts may run long.
	step := func(name, activity string, requires []string, params map[string]string) process.StepDef {
		s := process.StepDef{Name: name, Activity: activity, Critical: true, Requires: requires, Retry: retry,
			StartToClose: time.Minute, Params: params}
		switch activity {
		case NameSourceExtensionSQL:
			s.StartToClose, s.Heartbeat = time.Hour, time.Minute
		case activities.NameRunMaintenanceScript:
			s.StartToClose = time.Hour
		}
		return s
	}
	kind := KindDisable
	var steps []process.StepDef
	if enable {
		kind = KindEnable
		var before []string
		for i, file := range e.SQL {
			name := "sql-" + strconv.Itoa(i+1)
			steps = append(steps, step(name, NameSourceExtensionSQL, nil, map[string]string{"file": file}))
			before = append(before, name)
		}
		steps = append(steps, step(StepRights, NameChangeExtensionRights, nil, nil))
		before = append(before, StepRights)
		for i, s := range e.Scripts {
			name := "script-" + strconv.Itoa(i+1)
			steps = append(steps, step(name, activities.NameRunMaintenanceScript, before,
				map[string]string{"script": s.Script, "args": strings.Join(s.Args, " ")}))
			before = []string{name}
		}
		steps = append(steps, step(StepSet, NameSetExtension, before, nil))
	} else {
		steps = append(steps, step(StepSet, NameSetExtension, nil, nil), step(StepRights, NameChangeExtensionRights, []string{StepSet}, nil))
	}
	return process.Definition{
		Kind: kind, Steps: steps, AttentionWindow: o.AttentionWindow,
		Authorize: process.AuthorizeDef{
			Activity: activities.NameCheckRights, Wiki: o.CentralWiki, AnyRight: []process.Right{process.RightManageWikiRestricted},
		},
	}
}

// Input is one requested change.
type Input struct {
	Wiki       string
	Extension  string
	Enable     bool
	Requester  string
	Reason     string
	Options    Options
	Definition process.Definition
}

// Result is the end state.
type Result struct {
	Status process.Status
}

// ChangeExtension validates the change (known extension, open wiki,
// requirements and conflicts, requester with managewiki-extensions there);
// a restricted extension then waits for one holder of managewiki-restricted
// on the central wiki; then the steps run.
func ChangeExtension(ctx workflow.Context, in Input) (Result, error) {
	kind := KindDisable
	if in.Enable {
		kind = KindEnable
	}
	c := &change{in: in, requester: process.Person{Name: in.Requester}}
	c.St = workflows.NewStatus(ctx, kind, in.Wiki, in.Requester, map[string]string{"extension": in.Extension, "reason": in.Reason})
	err := c.Run(ctx, c.run)
	return Result{Status: *c.St}, err
}

type change struct {
	workflows.Frame
	in        Input
	requester process.Person
}

func (c *change) run(ctx workflow.Context) error {
	in, st := c.in, c.St
	c.ByPerson = true
	args := map[string]string{ArgExtension: in.Extension, ArgEnable: strconv.FormatBool(in.Enable), "reason": in.Reason}
	var valid process.StepResult
	var f *Activities
	err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "validate"), f.ValidateExtensionChange, process.StepInput{
		ProcessID: st.ID, Kind: st.Kind, Step: "validate", Wiki: process.WikiSpec{DB: in.Wiki}, Requester: in.Requester, Args: args,
	}).Get(ctx, &valid)
	if err != nil {
		if why, ok := workflows.IsRefusal(err); ok {
			return workflows.Refuse(st, "%s", why)
		}
		var app *temporal.ApplicationError
		if errors.As(err, &app) && app.NonRetryable() {
			return workflows.Refuse(st, "%s", app.Message())
		}
		return err
	}
	auth, err := workflows.CheckRight(ctx, "check the requester", in.Requester, in.Wiki, process.RightManageWikiExtensions)
	if err != nil {
		return err
	}
	if err := workflows.Identify(ctx, st, auth, &c.requester); err != nil {
		return err
	}
	if !auth.Allowed {
		return workflows.Refuse(st, "%s may not change the extensions of %s: %s", c.requester.Name, in.Wiki, auth.Reason)
	}
	c.Accept()
	if valid.Outputs[OutRestricted] == "true" {
		st.Result["restricted"] = "true"
		if approved, err := c.AwaitSteward(ctx, in.Options, in.Wiki, c.requester); err != nil || !approved {
			return err
		}
	}
	_, err = c.RunSteps(ctx, in.Definition, in.Wiki, c.requester, args)
	if err == nil {
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("%s %s on %s.", in.Extension, verb(in.Enable), in.Wiki))
	}
	return err
}
