package inactivity

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
)

// ScheduleID is the Temporal Schedule that runs the sweep every day.
const ScheduleID = "inactivity-sweep"

// SweepID is the workflow ID of a sweep started by hand.
const SweepID = "inactivity-sweep-manual"

// SweepPageSize is how many wikis one activity reads.
const SweepPageSize = 500

// sweepPagesPerRun bounds a sweep run's history: after this many pages it
// continues as new with its cursor and report.
const sweepPagesPerRun = 20

// SweepInput is one sweep. Wikis limits it to those wikis (an operator
// checking a few; the tests); DryRun reports what would happen and changes
// nothing.
type SweepInput struct {
	Options Options
	DryRun  bool
	Wikis   []string `json:",omitempty"`
	// After and Report carry a sweep over continue-as-new.
	After  string      `json:",omitempty"`
	Report SweepReport `json:",omitzero"`
}

// Due is a wiki whose state changes now.
type Due struct {
	Wiki    string  `json:"wiki"`
	Verdict Verdict `json:"verdict"`
	// Process is the inactivity process started for it ("" in a dry run).
	Process string `json:"process,omitempty"`
	// Running: a process for the wiki was already running and goes on.
	Running bool `json:"running,omitempty"`
}

// SweepReport is what a sweep found: how many wikis it read, and the ones
// whose state changes (at most MaxReported listed, all counted).
type SweepReport struct {
	DryRun bool  `json:"dry_run"`
	Read   int   `json:"read"`
	DueN   int   `json:"due"`
	Due    []Due `json:"due_wikis"`
}

// MaxReported bounds the wikis a sweep's result lists.
const MaxReported = 1000

// SweepResult is a sweep's report.
type SweepResult struct {
	Report SweepReport
}

// Sweep reads every wiki not marked deleted, page by page, and starts one
// inactivity process per wiki whose state must change now (warn, close,
// delete, or clear a stale mark); a wiki waiting between stages already has
// its process. Nothing else is started, so a farm of 10,000 quiet wikis
// costs 20 activities a day, not 10,000 workflows.
func Sweep(ctx workflow.Context, in SweepInput) (SweepResult, error) {
	if err := in.Options.Policy.Validate(); err != nil {
		return SweepResult{}, temporal.NewNonRetryableApplicationError(err.Error(), process.ErrTypeRefused, nil)
	}
	report := in.Report
	report.DryRun = in.DryRun
	after := in.After
	var f *Activities
	for range sweepPagesPerRun {
		var page SweepPage
		err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "read wikis after "+after), f.SweepInactivityPage,
			SweepPageInput{After: after, Limit: SweepPageSize, Wikis: in.Wikis, Policy: in.Options.Policy}).Get(ctx, &page)
		if err != nil {
			return SweepResult{Report: report}, err
		}
		report.Read += page.Read
		for _, d := range page.Due {
			if !in.DryRun {
				d.Process, d.Running = startProcess(ctx, in.Options, d.Wiki)
			}
			report.DueN++
			if len(report.Due) < MaxReported {
				report.Due = append(report.Due, d)
			}
		}
		if page.Next == "" {
			return SweepResult{Report: report}, nil
		}
		after = page.Next
	}
	in.After, in.Report = after, report
	return SweepResult{}, workflow.NewContinueAsNewError(ctx, Sweep, in)
}

// startProcess starts the wiki's inactivity process, or finds it running.
func startProcess(ctx workflow.Context, o Options, db string) (id string, running bool) {
	id = InactivityID(db)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: id, ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:         "Inactivity of " + db,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKindKey.ValueSet(KindInactivity), workflows.WikiDBKey.ValueSet(db),
			workflows.RequesterKey.ValueSet(o.Account), workflows.ProcessStateKey.ValueSet(string(process.StateRunning))),
		Memo: workflows.RetryMemo(ctx),
	})
	err := workflow.ExecuteChildWorkflow(cctx, Inactivity, Input{Wiki: db, Options: o}).GetChildWorkflowExecution().Get(ctx, nil)
	if temporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return id, true
	}
	if err != nil {
		// Not worth failing the sweep: the next one starts it.
		workflow.GetLogger(ctx).Warn("could not start an inactivity process", "wiki", db, "error", err)
		return "", false
	}
	return id, false
}

// SweepPageInput asks for one page of wikis after After (name order), or,
// when Wikis is set, for those wikis.
type SweepPageInput struct {
	After  string
	Limit  int
	Wikis  []string `json:",omitempty"`
	Policy Policy
}

// SweepPage is the wikis of one page whose state changes now; Next is the
// cursor of the next page ("" after the last).
type SweepPage struct {
	Read int
	Due  []Due
	Next string
}

// SweepInactivityPage reads one page of wikis and returns those the policy
// wants changed now, with its verdict.
func (f *Activities) SweepInactivityPage(ctx context.Context, in SweepPageInput) (SweepPage, error) {
	var rows []farmdb.InactivityRow
	if len(in.Wikis) > 0 {
		for _, db := range in.Wikis {
			r, err := f.Central.InactivityRowOf(ctx, db)
			if err != nil {
				return SweepPage{}, activities.CentralErr(db, err)
			}
			if !r.Deleted {
				rows = append(rows, r)
			}
		}
	} else {
		var err error
		if rows, err = f.Central.InactivityRows(ctx, in.After, in.Limit); err != nil {
			return SweepPage{}, err
		}
	}
	page := SweepPage{Read: len(rows)}
	now := time.Now()
	for _, r := range rows {
		activity.RecordHeartbeat(ctx, r.DB)
		facts, err := f.facts(ctx, r)
		if err != nil {
			return SweepPage{}, fmt.Errorf("%s: %w", r.DB, err)
		}
		if v := Decide(in.Policy, facts, now); v.NeedsProcess() {
			page.Due = append(page.Due, Due{Wiki: r.DB, Verdict: v})
		}
	}
	if len(in.Wikis) == 0 && len(rows) == in.Limit {
		page.Next = rows[len(rows)-1].DB
	}
	return page, nil
}
