package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/inactivity"
)

// inactivityOptions are the farm's inactivity policy and the deletions it
// starts.
func (c *Client) inactivityOptions() inactivity.Options {
	cfg := c.Config.Inactivity
	del := c.deleteOptions()
	return inactivity.Options{
		Policy:      inactivity.Policy{Inactive: cfg.InactiveAfter, Close: cfg.CloseAfter, Remove: cfg.DeleteAfter},
		CentralWiki: c.Config.MediaWiki.CentralWiki, Account: activities.SystemUser,
		Delete: del, DeleteDefinition: deletewiki.DeleteWikiDefinition(del),
	}
}

// Sweep runs the inactivity sweep now and waits for its report: over every
// wiki, or only over wikis when some are named. A dry run changes nothing.
// One sweep by hand at a time.
func (c *Client) Sweep(ctx context.Context, dryRun bool, wikis []string) (inactivity.SweepReport, error) {
	for _, db := range wikis {
		if err := ValidateDBName(db); err != nil {
			return inactivity.SweepReport{}, err
		}
	}
	what := "every wiki"
	if len(wikis) > 0 {
		what = fmt.Sprint(wikis)
	}
	if dryRun {
		what += " (dry run)"
	}
	run, err := c.Temporal.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{
		ID: inactivity.SweepID, TaskQueue: c.Config.Temporal.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            "Inactivity sweep by hand: " + what,
		Memo:                     map[string]any{process.MemoRetry: process.NewRetryPolicies(c.Config.Processes.TransientRetryBudget)},
	}, inactivity.Sweep, inactivity.SweepInput{Options: c.inactivityOptions(), DryRun: dryRun, Wikis: wikis})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return inactivity.SweepReport{}, refused("a sweep started by hand is already running (%s)", inactivity.SweepID)
	}
	if err != nil {
		return inactivity.SweepReport{}, err
	}
	var res inactivity.SweepResult
	if err := run.Get(ctx, &res); err != nil {
		return inactivity.SweepReport{}, asRefusal(inactivity.SweepID, err)
	}
	return res.Report, nil
}

// EnsureInactivitySchedule creates the daily sweep's Temporal Schedule, or
// brings it to the configuration (periods, interval, dry run, paused
// unless inactivity.enabled). The worker calls it when it starts.
func (c *Client) EnsureInactivitySchedule(ctx context.Context) error {
	cfg := c.Config.Inactivity
	action := &tclient.ScheduleWorkflowAction{
		ID: inactivity.ScheduleID, Workflow: inactivity.Sweep, TaskQueue: c.Config.Temporal.TaskQueue,
		Args: []any{inactivity.SweepInput{Options: c.inactivityOptions(), DryRun: cfg.DryRun}},
		Memo: map[string]any{process.MemoRetry: process.NewRetryPolicies(c.Config.Processes.TransientRetryBudget)},
	}
	spec := tclient.ScheduleSpec{Intervals: []tclient.ScheduleIntervalSpec{{Every: cfg.SweepInterval}}}
	note := "inactivity.enabled is false: trigger by hand, or enable it in the configuration"
	if cfg.Enabled {
		note = ""
	}
	sched := c.Temporal.ScheduleClient()
	h := sched.GetHandle(ctx, inactivity.ScheduleID)
	if _, err := h.Describe(ctx); err != nil {
		var notFound *serviceerror.NotFound
		if !errors.As(err, &notFound) {
			return err
		}
		_, err = sched.Create(ctx, tclient.ScheduleOptions{
			ID: inactivity.ScheduleID, Spec: spec, Action: action, Paused: !cfg.Enabled, Note: note,
			Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		})
		var exists *serviceerror.WorkflowExecutionAlreadyStarted
		if err == nil || errors.As(err, &exists) || errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
			return nil // another worker created it at the same moment
		}
		return err
	}
	return h.Update(ctx, tclient.ScheduleUpdateOptions{
		DoUpdate: func(in tclient.ScheduleUpdateInput) (*tclient.ScheduleUpdate, error) {
			s := in.Description.Schedule
			s.Spec, s.Action = &spec, action
			if s.State == nil {
				s.State = &tclient.ScheduleState{}
			}
			s.State.Paused, s.State.Note = !cfg.Enabled, note
			return &tclient.ScheduleUpdate{Schedule: &s}, nil
		},
	})
}

// CheckInactivity starts the inactivity process of one wiki now, whatever
// the sweep would say: it reads the wiki and does what the policy asks
// (often nothing).
func (c *Client) CheckInactivity(ctx context.Context, db string) (process.Status, error) {
	o := c.inactivityOptions()
	return c.startOnWiki(ctx, db, inactivity.InactivityID(db), inactivity.KindInactivity, o.Account,
		"Inactivity of "+db, inactivity.Inactivity, inactivity.Input{Wiki: db, Options: o})
}

// Reopen asks the inactivity process id to reopen its wiki, closed for
// inactivity, on behalf of user (a bureaucrat of the wiki, or a steward).
func (c *Client) Reopen(ctx context.Context, id, user, comment string) (process.Status, error) {
	if _, err := c.update(ctx, id, inactivity.UpdateReopen, process.DecisionSignal{User: user, Comment: comment}); err != nil {
		return process.Status{}, err
	}
	return c.Status(ctx, id)
}

// Exempt exempts a wiki from the inactivity policy (until zero: for good),
// or with revoke ends its exemption, on behalf of a steward.
func (c *Client) Exempt(ctx context.Context, db, user, reason string, until time.Time, revoke bool) (inactivity.ExemptResult, error) {
	if err := ValidateDBName(db); err != nil {
		return inactivity.ExemptResult{}, err
	}
	if !until.IsZero() && !until.After(time.Now()) {
		return inactivity.ExemptResult{}, refused("the exemption's expiry %s is in the past", until.UTC().Format(time.RFC3339))
	}
	run, err := c.Temporal.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{
		ID: "inactivity-exempt:" + db, TaskQueue: c.Config.Temporal.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            fmt.Sprintf("Exemption of %s from the inactivity policy, by %s", db, user),
	}, inactivity.Exempt, inactivity.ExemptInput{
		Wiki: db, Central: c.Config.MediaWiki.CentralWiki, User: user, Reason: reason, Until: until, Clear: revoke,
	})
	if err != nil {
		return inactivity.ExemptResult{}, err
	}
	var res inactivity.ExemptResult
	if err := run.Get(ctx, &res); err != nil {
		return res, asRefusal(db, err)
	}
	return res, nil
}
