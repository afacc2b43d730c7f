package workflows_test

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/worker"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/mediawiki"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
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
func withInterceptor(env *workflowtest.Env) {
	env.SetWorkerOptions(worker.Options{Interceptors: activities.WorkerInterceptors()})
}

var errRefused = fmt.Errorf("dial tcp 127.0.0.1:3306: connect: %w", syscall.ECONNREFUSED)

// Retries inside one launch are counted: a step that failed three times
// with the database down and then succeeded ran four times, and says so in
// the status and in the Web UI's details.
func TestAttemptsCountRetriesInsideALaunch(t *testing.T) {
	f := engineFarm()
	f.Hook("schema", failing(3, errRefused))
	def := definition(time.Hour, budgeted("db", true), budgeted("schema", true, "db"))
	env := workflowtest.NewProcessEnv(t, f, def)
	withInterceptor(env)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateCompleted {
		t.Fatalf("state %s, want completed: %+v", res.Status.State, res.Status.Steps)
	}
	if s := res.Status.Step("schema"); s.Attempts != 4 || f.Called("schema") != 4 {
		t.Fatalf("schema: %d attempts in the status, %d runs; want 4 and 4", s.Attempts, f.Called("schema"))
	}
	if s := res.Status.Step("db"); s.Attempts != 1 {
		t.Fatalf("db: %d attempts, want 1", s.Attempts)
	}
	if d := workflows.Details(&res.Status); !strings.Contains(d, "Attempts: `schema` 4") || strings.Contains(d, "`db` 1") {
		t.Fatalf("details do not show the retries: %q", d)
	}
}

// A permanent failure goes to a person at once, after the transient ones
// before it were retried; the attempts count all of them.
func TestPermanentFailureEndsTheRetriesAtOnce(t *testing.T) {
	f := engineFarm()
	calls := 0
	f.Hook("rights", func() error {
		calls++
		if calls <= 2 {
			return &mediawiki.HTTPError{Status: 503}
		}
		return &mediawiki.APIError{Code: "permissiondenied", Info: "you may not"}
	})
	def := definition(time.Hour, budgeted("db", true), budgeted("rights", false, "db"))
	env := workflowtest.NewProcessEnv(t, f, def)
	withInterceptor(env)
	runDef(env, def)

	res := result(t, env)
	s := res.Status.Step("rights")
	if s.State != process.StepFailed || s.Attempts != 3 || f.Called("rights") != 3 {
		t.Fatalf("rights: %+v after %d runs; want failed after 3 attempts", s, f.Called("rights"))
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
	f := engineFarm()
	f.Hook("import", failing(2, errRefused))
	def := definition(24*time.Hour, budgeted("db", true), budgeted("import", false, "db"))
	def.Steps[1].Retry = process.RetryDef{MaximumAttempts: 2} // gives up after two
	env := workflowtest.NewProcessEnv(t, f, def)
	withInterceptor(env)
	env.RegisterDelayedCallback(func() {
		workflowtest.Update(env, process.UpdateRetryStep, "retry-1", process.RetryRequest{User: "steward", Step: "import"})
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
	f := engineFarm()
	f.Hook("schema", func() error { return errRefused })
	schema := budgeted("schema", true)
	schema.Retry = process.TransientRetry(time.Minute)
	schema.StartToClose = 10 * time.Second
	def := definition(time.Hour, schema)
	env := workflowtest.NewProcessEnv(t, f, def)
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
	if s.Attempts != 6 || f.Called("schema") != 6 {
		t.Fatalf("schema: %d attempts, %d runs; want 6", s.Attempts, f.Called("schema"))
	}
	if failedAt := s.Ended.Sub(res.Status.Started); failedAt < 31*time.Second || failedAt > time.Minute {
		t.Fatalf("the step failed after %v, want within the 1 minute budget, after the sixth attempt", failedAt)
	}
}
