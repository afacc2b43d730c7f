package workflows

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
)

// budgeted is a step that rides out outages for an hour.
func budgeted(name string, critical bool, requires ...string) process.StepDef {
	return process.StepDef{Name: name, Activity: name, Critical: critical, Requires: requires,
		Retry: process.TransientRetry(time.Hour), StartToClose: time.Minute}
}

// failing returns a hook that fails the first n calls with err.
func failing(n int, err error) func() error {
	calls := 0
	return func() error {
		calls++
		if calls <= n {
			return err
		}
		return nil
	}
}

// withInterceptor makes the test environment run activities the way the
// worker does: classified, with their attempts stamped.
func withInterceptor(env *testsuite.TestWorkflowEnvironment) {
	env.SetWorkerOptions(worker.Options{Interceptors: activities.WorkerInterceptors()})
}

var errRefused = fmt.Errorf("dial tcp 127.0.0.1:3306: connect: %w", syscall.ECONNREFUSED)

// Retries inside one launch are counted: a step that failed three times
// with the database down and then succeeded ran four times, and says so in
// the status and in the Web UI's details.
func TestAttemptsCountRetriesInsideALaunch(t *testing.T) {
	f := newFakeFarm()
	f.hooks["schema"] = failing(3, errRefused)
	def := definition(time.Hour, budgeted("db", true), budgeted("schema", true, "db"))
	env := setup(t, def, f, nil)
	withInterceptor(env)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateCompleted {
		t.Fatalf("state %s, want completed: %+v", res.Status.State, res.Status.Steps)
	}
	if s := res.Status.Step("schema"); s.Attempts != 4 || f.called("schema") != 4 {
		t.Fatalf("schema: %d attempts in the status, %d runs; want 4 and 4", s.Attempts, f.called("schema"))
	}
	if s := res.Status.Step("db"); s.Attempts != 1 {
		t.Fatalf("db: %d attempts, want 1", s.Attempts)
	}
	e := &engine{st: &res.Status}
	if d := e.details(); !strings.Contains(d, "Attempts: `schema` 4") || strings.Contains(d, "`db` 1") {
		t.Fatalf("details do not show the retries: %q", d)
	}
}

// A permanent failure goes to a person at once, after the transient ones
// before it were retried; the attempts count all of them.
func TestPermanentFailureEndsTheRetriesAtOnce(t *testing.T) {
	f := newFakeFarm()
	calls := 0
	f.hooks["rights"] = func() error {
		calls++
		if calls <= 2 {
			return &mediawiki.HTTPError{Status: 503}
		}
		return &mediawiki.APIError{Code: "permissiondenied", Info: "you may not"}
	}
	def := definition(time.Hour, budgeted("db", true), budgeted("rights", false, "db"))
	env := setup(t, def, f, nil)
	withInterceptor(env)
	runDef(env, def)

	res := result(t, env)
	s := res.Status.Step("rights")
	if s.State != process.StepFailed || s.Attempts != 3 || f.called("rights") != 3 {
		t.Fatalf("rights: %+v after %d runs; want failed after 3 attempts", s, f.called("rights"))
	}
	if !strings.Contains(s.Error, "permissiondenied") {
		t.Fatalf("the error a person reads: %q", s.Error)
	}
	// Waited for a person for the attention window, not for the budget.
	if got := res.Status.Ended.Sub(res.Status.Started); got > time.Hour+time.Minute {
		t.Fatalf("ended after %v", got)
	}
}

// Attempts add up over launches: a step retried by a person counts the
// attempts of both.
func TestAttemptsAddUpOverLaunches(t *testing.T) {
	f := newFakeFarm()
	f.hooks["import"] = failing(2, errRefused)
	def := definition(24*time.Hour, budgeted("db", true), budgeted("import", false, "db"))
	def.Steps[1].Retry = process.RetryDef{MaximumAttempts: 2} // gives up after two
	env := setup(t, def, f, nil)
	withInterceptor(env)
	u := &updateCallback{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(process.UpdateRetryStep, "retry-1", u.callbacks(), process.RetryRequest{User: "steward", Step: "import"})
	}, 10*time.Minute)
	runDef(env, def)

	res := result(t, env)
	if s := res.Status.Step("import"); s.State != process.StepSucceeded || s.Attempts != 3 {
		t.Fatalf("import: %+v; want succeeded after 2 + 1 attempts", s)
	}
}

// A budget ends in time: a step whose failure never heals is retried
// until the budget is spent, then goes to a person.
func TestBudgetEndsTheRetries(t *testing.T) {
	f := newFakeFarm()
	f.hooks["schema"] = func() error { return errRefused }
	schema := budgeted("schema", true)
	schema.Retry = process.TransientRetry(time.Minute)
	schema.StartToClose = 10 * time.Second
	def := definition(time.Hour, schema)
	env := setup(t, def, f, nil)
	withInterceptor(env)
	runDef(env, def)

	res := result(t, env)
	s := res.Status.Step("schema")
	if s.State != process.StepFailed {
		t.Fatalf("schema %+v, want failed once the budget is spent", s)
	}
	// Backoff 1, 2, 4, 8, 16 s: attempts start at 0, 1, 3, 7, 15 and 31 s;
	// the next would start after the minute, so the sixth failure is the
	// last (the server gives up as soon as the next backoff would overrun).
	if s.Attempts != 6 || f.called("schema") != 6 {
		t.Fatalf("schema: %d attempts, %d runs; want 6", s.Attempts, f.called("schema"))
	}
	if failedAt := s.Ended.Sub(res.Status.Started); failedAt < 31*time.Second || failedAt > time.Minute {
		t.Fatalf("the step failed after %v, want within the 1 minute budget, after the sixth attempt", failedAt)
	}
}

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
		return activities.StampAttempt(temporal.NewApplicationErrorWithOptions("db down", activities.ErrTransient,
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
