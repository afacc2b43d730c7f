package workflows_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

// The engine's tests run the process workflow on workflowtest's fake farm:
// every step (and undo) activity is a Step of the farm, and broken ones
// fail permanently.

// engineRight is the right the test definitions authorize with.
const engineRight process.Right = "managewiki"

// engineFarm is a farm where steward holds engineRight on the wiki and
// the steps named broken fail permanently ("name is broken") until
// repaired.
func engineFarm(broken ...string) *workflowtest.Farm {
	f := workflowtest.NewFarm().Grant("steward", engineRight, workflowtest.Wiki)
	for _, name := range broken {
		f.Fail(name, workflowtest.Permanent(name+" is broken", "Broken"))
	}
	return f
}

// repair makes a broken step work again.
func repair(f *workflowtest.Farm, name string) { f.Fail(name, nil) }

// undos lists the calls of undo activities, in call order.
func undos(f *workflowtest.Farm) []string { return f.CallsOf("undo-") }

func definition(window time.Duration, steps ...process.StepDef) process.Definition {
	return process.Definition{
		Kind:            "test-process",
		Steps:           steps,
		AttentionWindow: window,
		Authorize:       process.AuthorizeDef{Activity: activities.NameCheckRights, AnyRight: []process.Right{engineRight}},
	}
}

func step(name string, critical bool, requires ...string) process.StepDef {
	return process.StepDef{Name: name, Activity: name, Critical: critical, Requires: requires,
		Retry: process.RetryDef{MaximumAttempts: 2}}
}

func runDef(env *workflowtest.Env, def process.Definition) {
	env.ExecuteWorkflow(workflows.ProcessWorkflowName, workflows.ProcessInput{
		Definition: def,
		Wiki:       process.WikiSpec{DB: workflowtest.Wiki, Sitename: "Test"},
		Requester:  "alice",
		Args:       map[string]string{"reason": "test"},
	})
}

// result is the process's result, also when it failed (then it is the
// failure's details).
func result(t *testing.T, env *workflowtest.Env) workflows.ProcessResult {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var res workflows.ProcessResult
	if err := env.GetWorkflowError(); err != nil {
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != process.ErrTypeFailed {
			t.Fatalf("workflow error: %v", err)
		}
		if err := app.Details(&res); err != nil {
			t.Fatalf("decode failure details: %v", err)
		}
		return res
	}
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatalf("result: %v", err)
	}
	return res
}

func TestOptionalFailureDoesNotBlockIndependentSteps(t *testing.T) {
	f := engineFarm("stats")
	f.Hook("flaky", func() error { return errors.New("temporary outage") }) // retryable
	def := definition(time.Hour,
		step("stats", false),
		step("flaky", false),
		step("db", true),
		step("register", true, "db"),
		step("notify", false, "register"))
	env := workflowtest.NewProcessEnv(t, f, def)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateCompleted {
		t.Fatalf("state %s, want completed", res.Status.State)
	}
	workflowtest.WantStepStates(t, res.Status, map[string]process.StepState{"stats": "failed", "db": "succeeded", "register": "succeeded", "notify": "succeeded"})
	// It waited the attention window (from flaky's failure after its 1s
	// retry backoff) for someone to retry, then completed anyway.
	if got := res.Status.Ended.Sub(res.Status.Started); got != time.Hour+time.Second {
		t.Errorf("ended after %v, want 1s + the 1h window", got)
	}
	if s := res.Status.Step("stats"); s.Attempts != 1 || s.Error != "stats is broken" {
		t.Errorf("stats: attempts %d error %q; a non-retryable error must end it at once", s.Attempts, s.Error)
	}
	if f.Called("flaky") != 2 || res.Status.Step("flaky").State != process.StepFailed {
		t.Errorf("flaky ran %d times, want its retry policy's 2", f.Called("flaky"))
	}
	if res.Outputs["register"] != "ok" || res.StepOutputs["notify"]["notify"] != "ok" {
		t.Errorf("outputs %v / %v", res.Outputs, res.StepOutputs)
	}
}

func TestBlockedDependentsRunAfterRetry(t *testing.T) {
	f := engineFarm("import")
	def := definition(24*time.Hour,
		step("db", true),
		step("import", false, "db"),
		step("rebuild", false, "import"),
		step("announce", false, "rebuild"),
		step("logo", false, "db"))
	env := workflowtest.NewProcessEnv(t, f, def)
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateNeedsAttention {
			t.Errorf("state %s before retry, want needs-attention", st.State)
		}
		workflowtest.WantStepStates(t, st, map[string]process.StepState{"import": "failed", "rebuild": "blocked", "announce": "blocked", "logo": "succeeded"})
		repair(f, "import") // the cause is fixed
		u = workflowtest.Update(env, process.UpdateRetryStep, "retry-1", process.RetryRequest{User: "steward", Step: "import"})
	}, 10*time.Minute)
	runDef(env, def)

	res := result(t, env)
	if u.Rejected != nil || u.Err != nil || !u.Done {
		t.Fatalf("retry update: rejected %v failed %v done %v", u.Rejected, u.Err, u.Done)
	}
	if res.Status.State != process.StateCompleted {
		t.Fatalf("state %s, want completed", res.Status.State)
	}
	workflowtest.WantStepStates(t, res.Status, map[string]process.StepState{"import": "succeeded", "rebuild": "succeeded", "announce": "succeeded"})
	if got := res.Status.Ended.Sub(res.Status.Started); got != 10*time.Minute {
		t.Errorf("ended after %v: once nothing is failed it should end right away", got)
	}
	if n := res.Status.Step("import").Attempts; n != 2 {
		t.Errorf("import attempts %d, want 2 (two launches)", n)
	}
	if a := res.Status.Actions; len(a) != 1 || !a[0].Accepted || a[0].User != "steward" || a[0].Step != "import" {
		t.Errorf("actions %+v", a)
	}
}

func TestCriticalFailureNeedsAttentionThenRetry(t *testing.T) {
	f := engineFarm("db")
	def := definition(24*time.Hour,
		step("db", true),
		step("register", true, "db"),
		step("dns", true),           // already running when db fails: finishes
		step("verify", true, "dns"), // critical, ready only after db failed: held
		step("mail", false, "dns"))  // optional, ready only after db failed: runs
	env := workflowtest.NewProcessEnv(t, f, def, workflowtest.Delay{Activity: "dns", D: 5 * time.Minute})
	env.RegisterDelayedCallback(func() {
		// A critical failure needs attention at once, even with dns still running.
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateNeedsAttention || st.Step("dns").State != process.StepRunning {
			t.Errorf("at 1m: state %s, dns %s; want needs-attention while dns runs", st.State, st.Step("dns").State)
		}
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateNeedsAttention {
			t.Errorf("state %s, want needs-attention", st.State)
		}
		workflowtest.WantStepStates(t, st, map[string]process.StepState{"db": "failed", "register": "blocked", "dns": "succeeded", "verify": "pending", "mail": "succeeded"})
		if st.AttentionUntil.IsZero() {
			t.Error("no attention deadline in status")
		}
		repair(f, "db")
		// The hook path: a signal, authorized by the activity all the same.
		env.SignalWorkflow(process.SignalRetryStep, process.RetryRequest{User: "steward", Step: "db"})
	}, 30*time.Minute)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateCompleted {
		t.Fatalf("state %s, want completed", res.Status.State)
	}
	workflowtest.WantStepStates(t, res.Status, map[string]process.StepState{"db": "succeeded", "register": "succeeded", "verify": "succeeded"})
	if f.ChecksOf("steward") != 1 {
		t.Errorf("the signal was not authorized: calls %v", f.Calls)
	}
	// max attempts 2 but non-retryable: one execution per launch.
	if f.Called("db") != 2 {
		t.Errorf("db ran %d times, want 2", f.Called("db"))
	}
}

func TestAbortUndoesSucceededStepsInReverseCompletionOrder(t *testing.T) {
	f := engineFarm("finish")
	withUndo := func(s process.StepDef) process.StepDef { s.Undo = "undo-" + s.Name; return s }
	def := definition(24*time.Hour,
		withUndo(step("slow", true)), // finishes second
		withUndo(step("fast", true)), // finishes first
		step("plain", true),          // succeeded, nothing to undo
		withUndo(step("finish", true, "slow", "fast", "plain")),
		withUndo(step("never", true, "finish")))
	env := workflowtest.NewProcessEnv(t, f, def, workflowtest.Delay{Activity: "slow", D: 10 * time.Minute}, workflowtest.Delay{Activity: "fast", D: time.Minute})
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		u = workflowtest.Update(env, process.UpdateAbort, "abort-1", process.AbortRequest{User: "steward", Reason: "wrong wiki"})
	}, time.Hour)
	runDef(env, def)

	res := result(t, env)
	if u.Err != nil || u.Rejected != nil {
		t.Fatalf("abort update: %v %v", u.Rejected, u.Err)
	}
	if res.Status.State != process.StateAborted {
		t.Fatalf("state %s, want aborted", res.Status.State)
	}
	if got, want := undos(f), []string{"undo-slow", "undo-fast"}; !slices.Equal(got, want) {
		t.Errorf("undo calls %v, want %v", got, want)
	}
	for name, undone := range map[string]bool{"slow": true, "fast": true, "plain": false, "finish": false, "never": false} {
		if s := res.Status.Step(name); s.Undone != undone {
			t.Errorf("step %s undone=%v, want %v", name, s.Undone, undone)
		}
	}
	workflowtest.WantStepStates(t, res.Status, map[string]process.StepState{"finish": "failed", "never": "blocked"})
}

func TestWindowExpiryWithCriticalFailureEndsFailed(t *testing.T) {
	f := engineFarm("register")
	s := step("db", true)
	s.Undo = "undo-db"
	def := definition(2*time.Hour, s, step("register", true, "db"), step("welcome", true, "register"), step("logo", true))
	env := workflowtest.NewProcessEnv(t, f, def)
	runDef(env, def)

	var app *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &app) || app.Type() != process.ErrTypeFailed {
		t.Fatalf("workflow error %v, want a %s application error", err, process.ErrTypeFailed)
	}
	res := result(t, env)
	if res.Status.State != process.StateFailed {
		t.Fatalf("state %s, want failed", res.Status.State)
	}
	if got := res.Status.Ended.Sub(res.Status.Started); got != 2*time.Hour {
		t.Errorf("ended after %v, want the 2h window", got)
	}
	workflowtest.WantStepStates(t, res.Status, map[string]process.StepState{"db": "succeeded", "register": "failed", "welcome": "blocked", "logo": "succeeded"})
	if len(undos(f)) != 0 {
		t.Errorf("expiry must not undo anything, got %v", undos(f))
	}
	if !strings.Contains(app.Error(), "register is broken") {
		t.Errorf("failure message %q does not name the cause", app.Error())
	}
}

func TestCriticalFailureHoldsPendingStepsUntilExpiry(t *testing.T) {
	f := engineFarm("db")
	def := definition(time.Hour, step("db", true), step("dns", true), step("verify", true, "dns"))
	env := workflowtest.NewProcessEnv(t, f, def, workflowtest.Delay{Activity: "dns", D: time.Minute})
	runDef(env, def)

	res := result(t, env)
	// verify became ready only after db had failed: never started, skipped at the end.
	workflowtest.WantStepStates(t, res.Status, map[string]process.StepState{"db": "failed", "dns": "succeeded", "verify": "skipped"})
	if f.Called("verify") != 0 {
		t.Error("verify ran while the process needed attention")
	}
}

func TestUnauthorisedRetryIsRefusedAndRecorded(t *testing.T) {
	f := engineFarm("db")
	def := definition(time.Hour, step("db", true))
	env := workflowtest.NewProcessEnv(t, f, def)
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(process.SignalRetryStep, process.RetryRequest{User: "vandal", Step: "db"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		u = workflowtest.Update(env, process.UpdateRetryStep, "retry-1", process.RetryRequest{User: "vandal", Step: "db"})
	}, 2*time.Minute)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateFailed || f.Called("db") != 1 {
		t.Fatalf("state %s, db ran %d times: a refused retry must change nothing", res.Status.State, f.Called("db"))
	}
	denied := workflowtest.DeniedReason("vandal", workflowtest.Wiki, []process.Right{engineRight})
	workflowtest.WantRefused(t, "retry update", u, denied)
	if len(res.Status.Actions) != 2 {
		t.Fatalf("actions %+v, want two refusals", res.Status.Actions)
	}
	for _, a := range res.Status.Actions {
		if a.Accepted || a.User != "vandal" || a.Action != process.ActionRetry || !strings.Contains(a.Reason, denied) {
			t.Errorf("action %+v", a)
		}
	}
}

// A right on the process's own wiki (LocalRights) also authorizes, when the
// central check says no.
func TestLocalRightsAuthorizeARetry(t *testing.T) {
	f := engineFarm("page")
	f.Grant("localcrat", workflowtest.Right, workflowtest.Wiki)
	def := definition(time.Hour, step("db", true), step("page", false, "db"))
	def.Authorize.Wiki = "metawiki"
	def.Authorize.LocalRights = []process.Right{"managewiki-core"}
	env := workflowtest.NewProcessEnv(t, f, def)
	env.RegisterDelayedCallback(func() {
		repair(f, "page")
		env.SignalWorkflow(process.SignalRetryStep, process.RetryRequest{User: "localcrat", Step: "page"})
	}, time.Minute)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateCompleted || f.Called("page") != 2 {
		t.Fatalf("state %s, page ran %d times: want the local bureaucrat's retry accepted", res.Status.State, f.Called("page"))
	}
	if a := res.Status.Actions; len(a) != 1 || !a[0].Accepted {
		t.Fatalf("actions %+v", a)
	}
}

func TestUpdateValidatorRejects(t *testing.T) {
	f := engineFarm("db")
	def := definition(time.Hour, step("db", true), step("dns", false))
	env := workflowtest.NewProcessEnv(t, f, def)
	var unknown, notFailed, noUser *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		unknown = workflowtest.Update(env, process.UpdateRetryStep, "u1", process.RetryRequest{User: "steward", Step: "nope"})
		notFailed = workflowtest.Update(env, process.UpdateRetryStep, "u2", process.RetryRequest{User: "steward", Step: "dns"})
		noUser = workflowtest.Update(env, process.UpdateAbort, "u3", process.AbortRequest{})
	}, time.Minute)
	runDef(env, def)

	for _, c := range []struct {
		u    *workflowtest.Upd
		want string
	}{{unknown, `unknown step "nope"`}, {notFailed, `step "dns" is succeeded, not failed`}, {noUser, "no user given"}} {
		if c.u.Rejected == nil || !strings.Contains(c.u.Rejected.Error(), c.want) {
			t.Errorf("rejection %v, want %q", c.u.Rejected, c.want)
		}
	}
	res := result(t, env)
	if len(res.Status.Actions) != 0 || f.Asked("steward") {
		t.Errorf("a rejected update must leave no trace: actions %+v", res.Status.Actions)
	}
}

func TestIndependentStepsRunConcurrently(t *testing.T) {
	f := engineFarm()
	var started sync.WaitGroup
	started.Add(2)
	both := make(chan struct{})
	go func() { started.Wait(); close(both) }()
	barrier := func() error {
		started.Done()
		select {
		case <-both:
			return nil
		case <-time.After(2 * time.Second): // below the test suite's 3s timeout
			return workflowtest.Permanent("the other step never started", "Serial")
		}
	}
	f.Hook("a", barrier)
	f.Hook("b", barrier)
	def := definition(0, step("a", true), step("b", true), step("c", true, "a", "b"))
	env := workflowtest.NewProcessEnv(t, f, def)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateCompleted {
		t.Fatalf("state %s: %+v", res.Status.State, res.Status.Steps)
	}
}

func TestStatusQueryAfterCompletion(t *testing.T) {
	f := engineFarm()
	def := definition(time.Hour, step("a", true), step("b", false, "a"))
	env := workflowtest.NewProcessEnv(t, f, def)
	runDef(env, def)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	st := workflowtest.QueryStatus(t, env)
	if st.State != process.StateCompleted || st.Kind != "test-process" || st.Wiki != "testwiki" || st.Requester != "alice" {
		t.Errorf("status %+v", st)
	}
	workflowtest.WantStepStates(t, st, map[string]process.StepState{"a": "succeeded", "b": "succeeded"})
}

func TestInvalidDefinitionFailsTheWorkflow(t *testing.T) {
	f := engineFarm()
	def := definition(time.Hour, step("a", true, "b"), step("b", true, "a"))
	env := workflowtest.NewProcessEnv(t, f, def)
	runDef(env, def)
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "a -> b -> a") {
		t.Fatalf("error %v, want the cycle named", err)
	}
}

func TestAbortWhileRunningWaitsThenUndoes(t *testing.T) {
	f := engineFarm()
	withUndo := func(s process.StepDef) process.StepDef { s.Undo = "undo-" + s.Name; return s }
	def := definition(time.Hour, withUndo(step("db", true)), withUndo(step("import", true, "db")), step("announce", true, "import"))
	env := workflowtest.NewProcessEnv(t, f, def, workflowtest.Delay{Activity: "import", D: 10 * time.Minute})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(process.SignalAbort, process.AbortRequest{User: "steward", Reason: "requested by mistake"})
	}, 5*time.Minute)
	env.RegisterDelayedCallback(func() {
		if st := workflowtest.QueryStatus(t, env); st.Step("import").State != process.StepRunning || len(undos(f)) != 0 {
			t.Errorf("at 7m: import %s, undos %v; want import still running, nothing undone yet", st.Step("import").State, undos(f))
		}
	}, 7*time.Minute)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateAborted {
		t.Fatalf("state %s, want aborted", res.Status.State)
	}
	if got, want := undos(f), []string{"undo-import", "undo-db"}; !slices.Equal(got, want) {
		t.Errorf("undo calls %v, want %v", got, want)
	}
	workflowtest.WantStepStates(t, res.Status, map[string]process.StepState{"import": "succeeded", "announce": "skipped"})
	if a := res.Status.Actions; len(a) != 1 || !a[0].Accepted || a[0].Reason != "requested by mistake" {
		t.Errorf("actions %+v", a)
	}
}

func TestCancelCountsAsAbort(t *testing.T) {
	f := engineFarm()
	s := step("db", true)
	s.Undo = "undo-db"
	def := definition(time.Hour, s, step("import", true, "db"))
	env := workflowtest.NewProcessEnv(t, f, def, workflowtest.Delay{Activity: "import", D: 10 * time.Minute})
	env.RegisterDelayedCallback(env.CancelWorkflow, 5*time.Minute)
	runDef(env, def)

	var canceled *temporal.CanceledError
	if err := env.GetWorkflowError(); !errors.As(err, &canceled) {
		t.Fatalf("workflow error %v, want cancelled", err)
	}
	if got := undos(f); !slices.Equal(got, []string{"undo-db"}) {
		t.Errorf("undo calls %v: the cleanup must run on a disconnected context", got)
	}
	st := workflowtest.QueryStatus(t, env)
	if st.State != process.StateAborted || st.Step("import").State != process.StepFailed {
		t.Errorf("state %s, import %s", st.State, st.Step("import").State)
	}
}

// Local steps run in the workflow task's worker with the same graph,
// retries, failure handling and retry-by-a-person as activity steps.
func TestLocalStepsRunLikeActivitySteps(t *testing.T) {
	f := engineFarm("import")
	f.Hook("flaky", func() error { return errors.New("temporary outage") }) // retryable
	local := func(s process.StepDef) process.StepDef { s.Local = true; return s }
	def := definition(24*time.Hour,
		local(step("db", true)),
		local(step("import", false, "db")),
		local(step("flaky", false)),
		step("rebuild", false, "import"))
	env := workflowtest.NewProcessEnv(t, f, def)
	asActivity := map[string]int{}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		asActivity[info.ActivityType.Name]++
	})
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		workflowtest.WantStepStates(t, st, map[string]process.StepState{"db": "succeeded", "import": "failed", "rebuild": "blocked", "flaky": "failed"})
		repair(f, "import")
		u = workflowtest.Update(env, process.UpdateRetryStep, "retry-1", process.RetryRequest{User: "steward", Step: "import"})
	}, 10*time.Minute)
	runDef(env, def)

	res := result(t, env)
	if u.Rejected != nil || u.Err != nil || !u.Done {
		t.Fatalf("retry update: rejected %v failed %v done %v", u.Rejected, u.Err, u.Done)
	}
	workflowtest.WantStepStates(t, res.Status, map[string]process.StepState{"db": "succeeded", "import": "succeeded", "rebuild": "succeeded", "flaky": "failed"})
	// flaky's local attempt failed in a way worth retrying: its second and
	// last attempt ran as an activity, whose retries the server shows.
	if f.Called("flaky") != 2 {
		t.Errorf("the local step flaky ran %d times, want its retry policy's 2", f.Called("flaky"))
	}
	if s := res.Status.Step("flaky"); s.Error != "temporary outage" || s.Attempts != 2 {
		t.Errorf("flaky: error %q, %d attempts, want 2", s.Error, s.Attempts)
	}
	// The local steps ran as activities only where a local attempt failed
	// in a way worth retrying: flaky's second attempt; import's permanent
	// failure was not retried, its retry by a person ran locally again.
	if asActivity["flaky"] != 1 || asActivity["db"] != 0 || asActivity["import"] != 0 || asActivity["rebuild"] != 1 {
		t.Errorf("attempts run as activities: %v, want flaky once and rebuild (an activity step) once", asActivity)
	}
	if n := res.Status.Step("import").Attempts; n != 2 {
		t.Errorf("import attempts %d, want 2 (two launches)", n)
	}
}

func TestLocalStepCannotHeartbeat(t *testing.T) {
	s := step("schema", true)
	s.Local, s.Heartbeat = true, 10*time.Second
	if err := definition(time.Hour, s).Validate(); err == nil || !strings.Contains(err.Error(), "local step cannot heartbeat") {
		t.Fatalf("a local step with a heartbeat: %v", err)
	}
}
