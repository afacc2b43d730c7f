package workflows

import (
	"errors"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

// The retry options the engine and the helpers give, checked on the
// unexported code that makes them.

func TestStepOptionsWithABudget(t *testing.T) {
	def := process.StepDef{Name: "schema", Activity: "x", Retry: process.TransientRetry(20 * time.Minute), StartToClose: time.Minute}
	o := stepOptions(def, "schema#1", "schema")
	if o.ScheduleToCloseTimeout != 20*time.Minute || o.RetryPolicy.MaximumAttempts != 0 ||
		o.RetryPolicy.MaximumInterval != 30*time.Second || o.RetryPolicy.InitialInterval != time.Second || o.RetryPolicy.BackoffCoefficient != 2 {
		t.Fatalf("budgeted step: %+v %+v", o, o.RetryPolicy)
	}
	// An attempt that may take longer than the budget keeps its whole time.
	def.StartToClose = time.Hour
	if o := stepOptions(def, "backup#1", "backup"); o.ScheduleToCloseTimeout != time.Hour {
		t.Fatalf("long step: ScheduleToClose %v, want its StartToClose", o.ScheduleToCloseTimeout)
	}
	// Definitions recorded before budgets keep their attempts and no bound in time.
	old := process.StepDef{Name: "schema", Activity: "x", Retry: process.RetryDef{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, BackoffCoefficient: 2, MaximumAttempts: 5}}
	if o := stepOptions(old, "schema#1", "schema"); o.ScheduleToCloseTimeout != 0 || o.RetryPolicy.MaximumAttempts != 5 || o.StartToCloseTimeout != defaultStartToClose {
		t.Fatalf("old step: %+v %+v", o, o.RetryPolicy)
	}
	if o := stepOptions(process.StepDef{Name: "x", Activity: "x"}, "x#1", "x"); o.RetryPolicy.MaximumAttempts != process.DefaultMaximumAttempts {
		t.Fatalf("no policy: %+v", o.RetryPolicy)
	}
	// Budget and attempts both bound when both are set.
	both := process.TransientRetry(time.Hour)
	both.MaximumAttempts = 7
	if p := retryPolicy(both); p.MaximumAttempts != 7 {
		t.Fatalf("both: %+v", p)
	}
	if r := process.TransientRetry(0); r.MaximumAttempts != 5 || r.Budget != 0 {
		t.Fatalf("no budget: %+v", r)
	}
}

func TestLaunchAttempts(t *testing.T) {
	stamped := func(n int32, nonRetryable bool) error {
		return activities.StampAttempt(temporal.NewApplicationErrorWithOptions("db down", activities.ErrTypeTransient,
			temporal.ApplicationErrorOptions{NonRetryable: nonRetryable}), n)
	}
	cases := []struct {
		name string
		res  process.StepResult
		err  error
		want int
	}{
		{"succeeded on the first attempt", process.StepResult{Attempt: 1}, nil, 1},
		{"succeeded after retries", process.StepResult{Attempt: 5}, nil, 5},
		{"recorded before the stamp", process.StepResult{}, nil, 1},
		{"permanent failure on the third", process.StepResult{}, stamped(3, true), 3},
		{"budget spent after seven failures", process.StepResult{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE, stamped(7, false)), 7},
		{"worker lost on the last attempt", process.StepResult{}, temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_SCHEDULE_TO_CLOSE,
			temporal.NewTimeoutError(enumspb.TIMEOUT_TYPE_HEARTBEAT, stamped(4, false))), 5},
		{"unstamped failure", process.StepResult{}, errors.New("x"), 1},
	}
	for _, c := range cases {
		if got := launchAttempts(c.res, c.err, 5); got != c.want {
			t.Errorf("%s: %d attempts, want %d", c.name, got, c.want)
		}
	}
}

// optionsProbe reports the options the helpers give, as the workflow sees them.
type optionsProbe struct {
	OneOffScheduleToClose, DecisionScheduleToClose time.Duration
	OneOffAttempts, DecisionAttempts               int32
}

func probeOptions(ctx workflow.Context) (optionsProbe, error) {
	legacy := &temporal.RetryPolicy{MaximumAttempts: 10}
	one := OneOffOptions(ctx, "x", time.Minute, legacy)
	dec := decisionOptions(ctx, "x", 30*time.Second, legacy)
	return optionsProbe{one.ScheduleToCloseTimeout, dec.ScheduleToCloseTimeout, one.RetryPolicy.MaximumAttempts, dec.RetryPolicy.MaximumAttempts}, nil
}

// The activities outside the graph take their budget from the memo the
// process started with; a process without one keeps the fixed policy.
func TestOneOffBudgetsFromTheMemo(t *testing.T) {
	run := func(memo map[string]any) optionsProbe {
		var ts testsuite.WorkflowTestSuite
		env := ts.NewTestWorkflowEnvironment()
		env.RegisterWorkflow(probeOptions)
		if memo != nil {
			if err := env.SetMemoOnStart(memo); err != nil {
				t.Fatal(err)
			}
		}
		env.ExecuteWorkflow(probeOptions)
		var p optionsProbe
		if err := env.GetWorkflowResult(&p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got := run(map[string]any{process.MemoRetry: process.NewRetryPolicies(20 * time.Minute)})
	want := optionsProbe{20 * time.Minute, process.DecisionBudget, 0, 0}
	if got != want {
		t.Errorf("with a 20m budget: %+v, want %+v", got, want)
	}
	if got := run(map[string]any{process.MemoRetry: process.NewRetryPolicies(time.Minute)}); got.DecisionScheduleToClose != time.Minute {
		t.Errorf("a decision budget above the transient one: %+v", got)
	}
	if got := run(nil); got != (optionsProbe{0, 0, 10, 10}) {
		t.Errorf("without a memo: %+v, want the fixed policy", got)
	}
}
