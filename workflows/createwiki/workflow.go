// Package createwiki is the creation of a wiki: its workflow, its step graph and the
// activities of those steps (database, schema, registration, rights, main page,
// storage, notification).
package createwiki

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
)

// KindCreateWiki is the process kind of wiki creation.
const KindCreateWiki = "create-wiki"

// CreateWikiID is the workflow ID of the creation of a wiki: one per
// database name, so a second create of the same wiki is refused by Temporal
// itself while the first one runs or after it completed.
func CreateWikiID(db string) string { return KindCreateWiki + ":" + db }

// Step names of wiki creation.
const (
	StepValidate       = "validate"
	StepCreateDatabase = "create-database"
	StepSchema         = "schema"
	StepRegister       = "register"
	StepRights         = "rights"
	StepMainPage       = "main-page"
	StepStorage        = "storage"
	StepNotify         = "notify"
)

// CreateWikiOptions are the farm's choices that shape the definition.
type CreateWikiOptions struct {
	AttentionWindow time.Duration
	// CentralWiki is where the rights to retry or abort are checked.
	CentralWiki string
	// ExtraSteps are the farm's own steps from configuration; Before names
	// steps that must wait for them (e.g. a critical script before register).
	ExtraSteps []ExtraStep
	// RetryBudget is how long a step retries transient failures before it
	// asks a person (processes.transient_retry_budget); zero: five attempts.
	RetryBudget time.Duration
}

// ExtraStep is a step a farm adds without code.
type ExtraStep struct {
	process.StepDef
	Before []string
}

// CreateWikiDefinition is the step graph of wiki creation. The critical path
// is create-database -> schema -> register; rights, main page and storage
// are optional and independent; notify waits for those three. Every step
// but the schema is short (a few statements, an API call, a directory) and
// runs as a local step: its server round trips cost more than its work. The
// schema stays an activity, heartbeating its progress so that a retry after
// a crash resumes where it was; it also ends the workflow task that ran the
// checks, so the start call answers once they are done, not after the
// creation (local steps run inside the task that starts them).
func CreateWikiDefinition(o CreateWikiOptions) process.Definition {
	quick := process.TransientRetry(o.RetryBudget)
	steps := []process.StepDef{
		{Name: StepCreateDatabase, Activity: NameCreateDatabase, Critical: true, Local: true,
			Retry: quick, StartToClose: time.Minute, Undo: NameDropDatabase},
		{Name: StepSchema, Activity: NameCreateSchema, Critical: true, Requires: []string{StepCreateDatabase},
			Retry: quick, StartToClose: 10 * time.Minute, Heartbeat: 10 * time.Second},
		{Name: StepRegister, Activity: NameRegisterWiki, Critical: true, Requires: []string{StepSchema}, Local: true,
			Retry: quick, StartToClose: time.Minute, Undo: NameUnregisterWiki},
		{Name: StepRights, Activity: NameGrantRequesterRights, Requires: []string{StepRegister}, Local: true,
			Retry: quick, StartToClose: 2 * time.Minute},
		{Name: StepMainPage, Activity: NameCreateMainPage, Requires: []string{StepRegister}, Local: true,
			Retry: quick, StartToClose: 2 * time.Minute},
		{Name: StepStorage, Activity: NameCreateStorage, Requires: []string{StepRegister}, Local: true,
			Retry: quick, StartToClose: time.Minute, Undo: NameRemoveStorage},
		{Name: StepNotify, Activity: NameNotifyCreated, Requires: []string{StepRights, StepMainPage, StepStorage}, Local: true,
			Retry: quick, StartToClose: time.Minute},
	}
	for _, extra := range o.ExtraSteps {
		for i := range steps {
			for _, b := range extra.Before {
				if steps[i].Name == b {
					steps[i].Requires = append(steps[i].Requires, extra.Name)
				}
			}
		}
		steps = append(steps, extra.StepDef)
	}
	return process.Definition{
		Kind:            KindCreateWiki,
		Steps:           steps,
		AttentionWindow: o.AttentionWindow,
		Authorize: process.AuthorizeDef{
			Activity: activities.NameCheckRights,
			Wiki:     o.CentralWiki,
			AnyRight: []process.Right{"createwiki", "managewiki-restricted"},
			// The new wiki's bureaucrat may re-trigger its optional steps.
			LocalRights: []process.Right{process.RightManageWikiCore},
		},
	}
}

// CreateWikiInput is the request and the definition it runs with. The
// definition travels in the input so a configuration change never alters a
// process that already started.
type CreateWikiInput struct {
	Wiki       process.WikiSpec
	Requester  string
	Email      string
	Definition process.Definition
}

// CreateWikiResult is the end state of the process.
type CreateWikiResult struct {
	Process workflows.ProcessResult
}

// CreateWiki validates the request, then runs the creation's step graph.
// Validation runs before the graph because a request that can never succeed
// (bad name, existing wiki, a requester with no account) should end at
// once, not wait for a person. On the identity version a refusal ends the
// workflow completed in the state refused, and the requester is the name
// MediaWiki gives their account.
func CreateWiki(ctx workflow.Context, in CreateWikiInput) (CreateWikiResult, error) {
	byPerson := workflows.KnowsPeople(ctx)
	owner := workflows.OwnsWikis(ctx)
	st := &process.Status{
		ID: workflow.GetInfo(ctx).WorkflowExecution.ID, Kind: KindCreateWiki, State: process.StateRunning,
		Wiki: in.Wiki.DB, Requester: in.Requester, Started: workflow.Now(ctx), Result: map[string]string{},
	}
	announcer := workflows.Announce(ctx, st, &in.Wiki.Private)
	ctx = workflows.WithAnnouncer(ctx, announcer)
	checked, err := workflows.ListenChecked(ctx, st)
	if err != nil {
		return CreateWikiResult{}, err
	}
	// The checked update gets its answer before the workflow ends.
	defer func() { _ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }) }()
	defer checked.End()
	if byPerson {
		// Answers until the engine takes over the query.
		if err := workflow.SetQueryHandler(ctx, process.QueryStatus, func() (process.Status, error) { return *st, nil }); err != nil {
			return CreateWikiResult{}, err
		}
	}
	// An outage during validation is waited out (the activity budget), so
	// it never fails or refuses a valid request.
	vopts := workflows.OneOffOptions(ctx, StepValidate, time.Minute, &temporal.RetryPolicy{
		InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10,
	})
	check := process.StepInput{
		ProcessID: st.ID,
		Kind:      KindCreateWiki,
		Step:      StepValidate,
		Wiki:      in.Wiki,
		Requester: in.Requester,
	}
	if byPerson {
		check.Params = map[string]string{activities.ParamCentralWiki: in.Definition.Authorize.Wiki}
	}
	var valid process.StepResult
	err = workflows.RunCheck(ctx, vopts, NameValidateWiki, check, &valid)
	if err != nil {
		if why, ok := workflows.IsRefusal(err); byPerson && ok {
			err = workflows.FinishState(ctx, st, workflows.Refuse(st, "%s", why), true)
			announcer.Settle(ctx)
			return CreateWikiResult{Process: workflows.ProcessResult{Status: *st}}, err
		}
		st.State, st.Result[process.ResultError] = process.StateFailed, err.Error()
		_ = workflow.UpsertTypedSearchAttributes(ctx, workflows.ProcessStateKey.ValueSet(string(process.StateFailed)))
		announcer.Settle(ctx)
		return CreateWikiResult{}, err
	}
	requester := in.Requester
	if name := valid.Outputs[OutRequester]; byPerson && name != "" && name != requester {
		requester = name
		_ = workflow.UpsertTypedSearchAttributes(ctx, workflows.RequesterKey.ValueSet(name))
	}
	if owner {
		// From here until it ends, this creation is the wiki's one owner: no
		// deletion or restore of the same name runs beside it.
		if err := workflows.OwnWiki(ctx, st, in.Wiki.DB, KindCreateWiki); err != nil {
			err = workflows.FinishState(ctx, st, err, byPerson)
			announcer.Settle(ctx)
			return CreateWikiResult{Process: workflows.ProcessResult{Status: *st}}, err
		}
		defer workflows.ReleaseWiki(ctx, in.Wiki.DB)
	}
	checked.Accept()
	res, err := workflows.RunProcess(ctx, workflows.ProcessInput{
		Definition: in.Definition,
		Wiki:       in.Wiki,
		Requester:  requester,
		Args:       map[string]string{"email": in.Email},
	})
	return CreateWikiResult{Process: res}, err
}
