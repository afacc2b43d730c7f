package inactivity_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/inactivity"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

const day = 24 * time.Hour

// CreateWiki's default periods.
var policy = inactivity.Policy{Inactive: 45 * day, Close: 15 * day, Remove: 120 * day}

// wikiModel is the fake farm's wiki as the policy reads it; the fake stage
// activities change it as the real ones change cw_wikis.
type wikiModel struct {
	mu      sync.Mutex
	row     farmdb.InactivityRow
	last    time.Time
	deletes []deletewiki.DeleteWikiInput
}

// newInactivityEnv runs the inactivity workflow against the fake farm f
// and the wiki model m, on the test clock.
func newInactivityEnv(t *testing.T, f *workflowtest.Farm, m *wikiModel) *workflowtest.Env {
	env := workflowtest.NewEnv(t, f, []any{inactivity.Inactivity, inactivity.Sweep})
	for _, name := range []string{inactivity.NameMarkInactive, inactivity.NameMarkActive, inactivity.NameReopenInactive} {
		env.RegisterActivityWithOptions(f.Step(name), activity.RegisterOptions{Name: name})
	}
	env.RegisterActivityWithOptions(func(_ context.Context, in inactivity.ReadInput) (inactivity.Facts, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		return inactivity.Facts{Row: m.row, LastActivity: m.last}, nil
	}, activity.RegisterOptions{Name: inactivity.NameReadInactivity})
	env.RegisterWorkflowWithOptions(func(_ workflow.Context, in deletewiki.DeleteWikiInput) (deletewiki.DeleteWikiResult, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.deletes = append(m.deletes, in)
		return deletewiki.DeleteWikiResult{}, nil
	}, workflow.RegisterOptions{Name: "DeleteWiki"})
	f.Hook(inactivity.NameMarkInactive, func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.row.Inactive, m.row.InactiveAt = true, env.Now()
		return nil
	})
	f.Hook(inactivity.NameMarkActive, func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.row.Inactive, m.row.InactiveAt = false, time.Time{}
		return nil
	})
	f.Hook(deletewiki.NameCloseWiki, func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.row.Closed, m.row.ClosedReason, m.row.ClosedAt = true, inactivity.ClosedReason, env.Now()
		return nil
	})
	f.Hook(inactivity.NameReopenInactive, func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.row.Closed, m.row.ClosedReason, m.row.ClosedAt = false, "", time.Time{}
		m.row.Inactive, m.row.InactiveAt = false, time.Time{}
		return nil
	})
	return env
}

func input() inactivity.Input {
	o := workflowtest.DeleteOptions()
	return inactivity.Input{Wiki: workflowtest.Wiki, Options: inactivity.Options{
		Policy: policy, CentralWiki: workflowtest.Central, Account: activities.SystemUser,
		Delete: o, DeleteDefinition: deletewiki.DeleteWikiDefinition(o),
	}}
}

// quiet makes m a wiki created 400 days before start, last edited 100
// days before it.
func quiet(m *wikiModel, start time.Time) {
	m.row = farmdb.InactivityRow{DB: workflowtest.Wiki, Cluster: "c1", Created: start.Add(-400 * day)}
	m.last = start.Add(-100 * day)
}

func phases(f *workflowtest.Farm) []string {
	var out []string
	for _, in := range f.Steps[activities.NameNotifyBureaucrats] {
		out = append(out, in.Params["phase"])
	}
	return out
}

func TestQuietWikiIsWarnedClosedThenDeletedByTheNormalDeletion(t *testing.T) {
	f := workflowtest.NewFarm()
	m := &wikiModel{}
	env := newInactivityEnv(t, f, m)
	start := env.Now()
	quiet(m, start)
	var states []process.State
	env.RegisterDelayedCallback(func() { states = append(states, workflowtest.QueryStatus(t, env).State) }, 10*day)
	env.RegisterDelayedCallback(func() { states = append(states, workflowtest.QueryStatus(t, env).State) }, 100*day)
	env.ExecuteWorkflow(inactivity.Inactivity, input())
	st := workflowtest.EndStatus(t, env)

	if !slices.Equal(states, []process.State{process.StateWarned, process.StateClosedInactive}) {
		t.Errorf("states on day 10 and 100: %v, want warned then closed", states)
	}
	if got := phases(f); !slices.Equal(got, []string{activities.PhaseInactive, activities.PhaseClosed}) {
		t.Errorf("bureaucrats told %v, want inactive then closed", got)
	}
	closes := f.Steps[deletewiki.NameCloseWiki]
	if len(closes) != 1 || closes[0].Args["reason"] != inactivity.ClosedReason {
		t.Errorf("closings %+v, want one with the reason %q", closes, inactivity.ClosedReason)
	}
	if !m.row.ClosedAt.Equal(start.Add(15 * day)) {
		t.Errorf("closed at day %v, want day 15", m.row.ClosedAt.Sub(start)/day)
	}
	if len(m.deletes) != 1 {
		t.Fatalf("deletions started: %d, want 1", len(m.deletes))
	}
	d := m.deletes[0]
	if d.ApprovedBy != inactivity.PolicyApprover || d.Requester != activities.SystemUser || d.Options.GracePeriod != workflowtest.DeleteGrace {
		t.Errorf("deletion %+v, want approved by the policy, requested by the system account, with the farm's grace period", d)
	}
	if st.State != process.StateCompleted || st.Result[inactivity.ResultDeleteProcess] != deletewiki.DeleteWikiID(workflowtest.Wiki) {
		t.Errorf("end %s %v, want completed naming the deletion", st.State, st.Result)
	}
	if e := workflowtest.Elapsed(st, st.Ended); e != 135*day {
		t.Errorf("ended after %v, want 135 days (15 warned + 120 closed)", e/day)
	}
}

func TestAnEditDuringTheWarningStopsItBeforeTheClosing(t *testing.T) {
	f := workflowtest.NewFarm()
	m := &wikiModel{}
	env := newInactivityEnv(t, f, m)
	start := env.Now()
	quiet(m, start)
	env.RegisterDelayedCallback(func() {
		m.mu.Lock()
		m.last = env.Now() // someone edits on day 10
		m.mu.Unlock()
	}, 10*day)
	env.ExecuteWorkflow(inactivity.Inactivity, input())
	st := workflowtest.EndStatus(t, env)

	if f.Called(deletewiki.NameCloseWiki) != 0 || len(m.deletes) != 0 {
		t.Errorf("closed %d times, %d deletions: an edited wiki must be left open", f.Called(deletewiki.NameCloseWiki), len(m.deletes))
	}
	if m.row.Inactive || m.row.Closed {
		t.Errorf("wiki row %+v, want active and open again", m.row)
	}
	if st.State != process.StateCompleted || workflowtest.Elapsed(st, st.Ended) != 15*day {
		t.Errorf("end %s after %v, want completed at day 15 (the closing's date, read again)", st.State, workflowtest.Elapsed(st, st.Ended)/day)
	}
}

func TestAnExemptWikiIsLeftAlone(t *testing.T) {
	f := workflowtest.NewFarm()
	m := &wikiModel{}
	env := newInactivityEnv(t, f, m)
	start := env.Now()
	m.row = farmdb.InactivityRow{DB: workflowtest.Wiki, Cluster: "c1", Created: start.Add(-400 * day),
		Exempt: true, ExemptReason: "archive of a finished project", ExemptUntil: start.Add(300 * day)}
	m.last = start.Add(-200 * day)
	env.ExecuteWorkflow(inactivity.Inactivity, input())
	st := workflowtest.EndStatus(t, env)
	if len(f.Steps) != 0 || len(m.deletes) != 0 {
		t.Errorf("steps %v, deletions %d: an exempt wiki must not change", f.Calls, len(m.deletes))
	}
	if st.State != process.StateCompleted || st.Result[inactivity.ResultVerdict] == "" {
		t.Errorf("end %s %v, want completed with the verdict", st.State, st.Result)
	}
}

// bobsWiki is a wiki of which bob is a bureaucrat, and the environment
// running its inactivity process from start.
func bobsWiki(t *testing.T) (f *workflowtest.Farm, m *wikiModel, env *workflowtest.Env, start time.Time) {
	f = workflowtest.NewFarm()
	f.Grant("bob", process.RightManageWikiCore, workflowtest.Wiki)
	m = &wikiModel{}
	env = newInactivityEnv(t, f, m)
	return f, m, env, env.Now()
}

func TestReopenNeedsABureaucratAndStopsTheDeletion(t *testing.T) {
	f, m, env, start := bobsWiki(t)
	m.row = farmdb.InactivityRow{DB: workflowtest.Wiki, Cluster: "c1", Created: start.Add(-400 * day),
		Inactive: true, InactiveAt: start.Add(-20 * day), Closed: true, ClosedReason: inactivity.ClosedReason, ClosedAt: start.Add(-5 * day)}
	m.last = start.Add(-100 * day)
	var mallory, bob *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		mallory = workflowtest.Update(env, inactivity.UpdateReopen, "m", process.DecisionSignal{User: "mallory"})
	}, 10*day)
	env.RegisterDelayedCallback(func() {
		if !m.row.Closed || f.Called(inactivity.NameReopenInactive) != 0 {
			t.Error("a refused reopen changed the wiki")
		}
		bob = workflowtest.Update(env, inactivity.UpdateReopen, "b", process.DecisionSignal{User: "bob", Comment: "we are back"})
	}, 11*day)
	env.ExecuteWorkflow(inactivity.Inactivity, input())
	st := workflowtest.EndStatus(t, env)
	workflowtest.WantRefused(t, "mallory's reopen", mallory, "holds neither")
	workflowtest.WantAccepted(t, "bob's reopen", bob)
	if len(m.deletes) != 0 || m.row.Closed {
		t.Errorf("%d deletions, closed %v: a reopened wiki is open and not deleted", len(m.deletes), m.row.Closed)
	}
	if st.Result[inactivity.ResultReopenedBy] != "bob" || st.State != process.StateCompleted {
		t.Errorf("end %s %v, want completed, reopened by bob", st.State, st.Result)
	}
}

func TestAReopenBeforeTheClosingIsRefusedAndChangesNothing(t *testing.T) {
	f, m, env, start := bobsWiki(t)
	quiet(m, start)
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		u = workflowtest.Update(env, inactivity.UpdateReopen, "b", process.DecisionSignal{User: "bob"})
	}, 2*day)
	env.ExecuteWorkflow(inactivity.Inactivity, input())
	workflowtest.EndStatus(t, env)
	workflowtest.WantRefused(t, "a reopen while only warned", u, "only a wiki closed for inactivity")
	if f.Called(inactivity.NameReopenInactive) != 0 {
		t.Error("the refused reopen ran ReopenInactive")
	}
}

// The sweep over a farm of quiet wikis starts a process only for the wikis
// whose state changes; a dry run starts none.
func TestSweepStartsProcessesOnlyForWikisWhoseStateChanges(t *testing.T) {
	for _, dry := range []bool{false, true} {
		f := workflowtest.NewFarm()
		env := workflowtest.NewEnv(t, f, []any{inactivity.Sweep})
		var pages []inactivity.SweepPageInput
		env.RegisterActivityWithOptions(func(_ context.Context, in inactivity.SweepPageInput) (inactivity.SweepPage, error) {
			pages = append(pages, in)
			// 1,000 wikis on two pages; wikis 7 and 512 are due.
			if in.After == "" {
				return inactivity.SweepPage{Read: 500, Next: "wiki499", Due: []inactivity.Due{
					{Wiki: "wiki7", Verdict: inactivity.Verdict{Action: inactivity.ActionWarn}}}}, nil
			}
			return inactivity.SweepPage{Read: 500, Due: []inactivity.Due{
				{Wiki: "wiki512", Verdict: inactivity.Verdict{Action: inactivity.ActionClose}}}}, nil
		}, activity.RegisterOptions{Name: inactivity.NameSweepPage})
		var started []string
		env.RegisterWorkflowWithOptions(func(_ workflow.Context, in inactivity.Input) (inactivity.Result, error) {
			started = append(started, in.Wiki)
			return inactivity.Result{}, nil
		}, workflow.RegisterOptions{Name: "Inactivity"})
		env.ExecuteWorkflow(inactivity.Sweep, inactivity.SweepInput{Options: input().Options, DryRun: dry})
		if err := env.GetWorkflowError(); err != nil {
			t.Fatal(err)
		}
		var res inactivity.SweepResult
		if err := env.GetWorkflowResult(&res); err != nil {
			t.Fatal(err)
		}
		r := res.Report
		if r.Read != 1000 || r.DueN != 2 || len(pages) != 2 || pages[1].After != "wiki499" {
			t.Errorf("dry %v: read %d, due %d, pages %+v; want 1000 read over two pages, 2 due", dry, r.Read, r.DueN, pages)
		}
		want := []string{"wiki7", "wiki512"}
		if dry {
			want = nil
		}
		if !slices.Equal(started, want) {
			t.Errorf("dry %v: processes started for %v, want %v", dry, started, want)
		}
		if !dry && r.Due[0].Process != inactivity.InactivityID("wiki7") {
			t.Errorf("report %+v, want the process IDs", r.Due)
		}
	}
}
