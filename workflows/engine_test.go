package workflows

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/wikiflow/wikiflow/process"
)

// fakeFarm stands in for the activities: every step (and undo) activity is
// registered by name and logs its calls; broken ones fail permanently.
type fakeFarm struct {
	mu      sync.Mutex
	calls   []string
	broken  map[string]bool
	allowed map[string]bool // users the authorize activity lets through
	// allowedOn lets a user through on one wiki only (user -> wiki).
	allowedOn map[string]string
	hooks     map[string]func() error
}

func newFakeFarm() *fakeFarm {
	return &fakeFarm{broken: map[string]bool{}, allowed: map[string]bool{"steward": true}, hooks: map[string]func() error{}}
}

func (f *fakeFarm) step(name string) func(context.Context, process.StepInput) (process.StepResult, error) {
	return func(ctx context.Context, in process.StepInput) (process.StepResult, error) {
		f.mu.Lock()
		f.calls = append(f.calls, name)
		broken, hook := f.broken[name], f.hooks[name]
		f.mu.Unlock()
		if hook != nil {
			if err := hook(); err != nil {
				return process.StepResult{}, err
			}
		}
		if broken {
			return process.StepResult{}, temporal.NewNonRetryableApplicationError(name+" is broken", "Broken", nil)
		}
		return process.StepResult{Summary: name + " done", Outputs: map[string]string{name: "ok"}}, nil
	}
}

func (f *fakeFarm) authorize(ctx context.Context, in process.AuthorizeInput) (process.AuthorizeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "authorize:"+in.User)
	if f.allowed[in.User] || (f.allowedOn[in.User] != "" && f.allowedOn[in.User] == in.Wiki) {
		return process.AuthorizeResult{Allowed: true, Rights: in.AnyRight}, nil
	}
	return process.AuthorizeResult{Reason: "lacks managewiki on " + in.Wiki}, nil
}

func (f *fakeFarm) setBroken(name string, broken bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.broken[name] = broken
}

func (f *fakeFarm) called(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == name {
			n++
		}
	}
	return n
}

func (f *fakeFarm) undos() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, "undo-") {
			out = append(out, c)
		}
	}
	return out
}

// setup builds a test environment running def; delays make named
// activities take that long on the workflow clock.
func setup(t *testing.T, def process.Definition, f *fakeFarm, delays map[string]time.Duration) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	RegisterProcessWorkflow(env)
	for _, s := range def.Steps {
		env.RegisterActivityWithOptions(f.step(s.Activity), activity.RegisterOptions{Name: s.Activity})
		if s.Undo != "" {
			env.RegisterActivityWithOptions(f.step(s.Undo), activity.RegisterOptions{Name: s.Undo})
		}
	}
	env.RegisterActivityWithOptions(f.authorize, activity.RegisterOptions{Name: "authorize"})
	// Mocks come after every registration (the test suite insists); sorted
	// so that the setup does not depend on map order.
	for _, name := range slices.Sorted(maps.Keys(delays)) {
		env.OnActivity(name, mock.Anything, mock.Anything).After(delays[name]).Return(f.step(name))
	}
	return env
}

func definition(window time.Duration, steps ...process.StepDef) process.Definition {
	return process.Definition{
		Kind:            "test-process",
		Steps:           steps,
		AttentionWindow: window,
		Authorize:       process.AuthorizeDef{Activity: "authorize", AnyRight: []process.Right{"managewiki"}},
	}
}

func step(name string, critical bool, requires ...string) process.StepDef {
	return process.StepDef{Name: name, Activity: name, Critical: critical, Requires: requires,
		Retry: process.RetryDef{MaximumAttempts: 2}}
}

func runDef(env *testsuite.TestWorkflowEnvironment, def process.Definition) {
	env.ExecuteWorkflow(ProcessWorkflowName, ProcessInput{
		Definition: def,
		Wiki:       process.WikiSpec{DB: "testwiki", Sitename: "Test"},
		Requester:  "alice",
		Args:       map[string]string{"reason": "test"},
	})
}

func status(t *testing.T, env *testsuite.TestWorkflowEnvironment) process.Status {
	t.Helper()
	v, err := env.QueryWorkflow(process.QueryStatus)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	var st process.Status
	if err := v.Get(&st); err != nil {
		t.Fatalf("decode status: %v", err)
	}
	return st
}

func result(t *testing.T, env *testsuite.TestWorkflowEnvironment) ProcessResult {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var res ProcessResult
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

func wantStates(t *testing.T, st process.Status, want map[string]process.StepState) {
	t.Helper()
	for name, w := range want {
		s := st.Step(name)
		if s == nil {
			t.Errorf("no step %q in status", name)
		} else if s.State != w {
			t.Errorf("step %s is %s (error %q), want %s", name, s.State, s.Error, w)
		}
	}
}

// updateCallback collects the outcome of one update.
type updateCallback struct {
	rejected, failed error
	done             bool
}

func (u *updateCallback) callbacks() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { u.rejected = err },
		OnComplete: func(_ any, err error) { u.done, u.failed = true, err },
	}
}

func TestOptionalFailureDoesNotBlockIndependentSteps(t *testing.T) {
	f := newFakeFarm()
	f.setBroken("stats", true)
	f.hooks["flaky"] = func() error { return errors.New("temporary outage") } // retryable
	def := definition(time.Hour,
		step("stats", false),
		step("flaky", false),
		step("db", true),
		step("register", true, "db"),
		step("notify", false, "register"))
	env := setup(t, def, f, nil)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateCompleted {
		t.Fatalf("state %s, want completed", res.Status.State)
	}
	wantStates(t, res.Status, map[string]process.StepState{"stats": "failed", "db": "succeeded", "register": "succeeded", "notify": "succeeded"})
	// It waited the attention window (from flaky's failure after its 1s
	// retry backoff) for someone to retry, then completed anyway.
	if got := res.Status.Ended.Sub(res.Status.Started); got != time.Hour+time.Second {
		t.Errorf("ended after %v, want 1s + the 1h window", got)
	}
	if s := res.Status.Step("stats"); s.Attempts != 1 || s.Error != "stats is broken" {
		t.Errorf("stats: attempts %d error %q; a non-retryable error must end it at once", s.Attempts, s.Error)
	}
	if f.called("flaky") != 2 || res.Status.Step("flaky").State != process.StepFailed {
		t.Errorf("flaky ran %d times, want its retry policy's 2", f.called("flaky"))
	}
	if res.Outputs["register"] != "ok" || res.StepOutputs["notify"]["notify"] != "ok" {
		t.Errorf("outputs %v / %v", res.Outputs, res.StepOutputs)
	}
}

func TestBlockedDependentsRunAfterRetry(t *testing.T) {
	f := newFakeFarm()
	f.setBroken("import", true)
	def := definition(24*time.Hour,
		step("db", true),
		step("import", false, "db"),
		step("rebuild", false, "import"),
		step("announce", false, "rebuild"),
		step("logo", false, "db"))
	env := setup(t, def, f, nil)
	u := &updateCallback{}
	env.RegisterDelayedCallback(func() {
		st := status(t, env)
		if st.State != process.StateNeedsAttention {
			t.Errorf("state %s before retry, want needs-attention", st.State)
		}
		wantStates(t, st, map[string]process.StepState{"import": "failed", "rebuild": "blocked", "announce": "blocked", "logo": "succeeded"})
		f.setBroken("import", false) // the cause is fixed
		env.UpdateWorkflow(process.UpdateRetryStep, "retry-1", u.callbacks(), process.RetryRequest{User: "steward", Step: "import"})
	}, 10*time.Minute)
	runDef(env, def)

	res := result(t, env)
	if u.rejected != nil || u.failed != nil || !u.done {
		t.Fatalf("retry update: rejected %v failed %v done %v", u.rejected, u.failed, u.done)
	}
	if res.Status.State != process.StateCompleted {
		t.Fatalf("state %s, want completed", res.Status.State)
	}
	wantStates(t, res.Status, map[string]process.StepState{"import": "succeeded", "rebuild": "succeeded", "announce": "succeeded"})
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
	f := newFakeFarm()
	f.setBroken("db", true)
	def := definition(24*time.Hour,
		step("db", true),
		step("register", true, "db"),
		step("dns", true),           // already running when db fails: finishes
		step("verify", true, "dns"), // critical, ready only after db failed: held
		step("mail", false, "dns"))  // optional, ready only after db failed: runs
	env := setup(t, def, f, map[string]time.Duration{"dns": 5 * time.Minute})
	env.RegisterDelayedCallback(func() {
		// A critical failure needs attention at once, even with dns still running.
		st := status(t, env)
		if st.State != process.StateNeedsAttention || st.Step("dns").State != process.StepRunning {
			t.Errorf("at 1m: state %s, dns %s; want needs-attention while dns runs", st.State, st.Step("dns").State)
		}
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		st := status(t, env)
		if st.State != process.StateNeedsAttention {
			t.Errorf("state %s, want needs-attention", st.State)
		}
		wantStates(t, st, map[string]process.StepState{"db": "failed", "register": "blocked", "dns": "succeeded", "verify": "pending", "mail": "succeeded"})
		if st.AttentionUntil.IsZero() {
			t.Error("no attention deadline in status")
		}
		f.setBroken("db", false)
		// The hook path: a signal, authorized by the activity all the same.
		env.SignalWorkflow(process.SignalRetryStep, process.RetryRequest{User: "steward", Step: "db"})
	}, 30*time.Minute)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateCompleted {
		t.Fatalf("state %s, want completed", res.Status.State)
	}
	wantStates(t, res.Status, map[string]process.StepState{"db": "succeeded", "register": "succeeded", "verify": "succeeded"})
	if f.called("authorize:steward") != 1 {
		t.Errorf("the signal was not authorized: calls %v", f.calls)
	}
	// max attempts 2 but non-retryable: one execution per launch.
	if f.called("db") != 2 {
		t.Errorf("db ran %d times, want 2", f.called("db"))
	}
}

func TestAbortUndoesSucceededStepsInReverseCompletionOrder(t *testing.T) {
	f := newFakeFarm()
	f.setBroken("finish", true)
	withUndo := func(s process.StepDef) process.StepDef { s.Undo = "undo-" + s.Name; return s }
	def := definition(24*time.Hour,
		withUndo(step("slow", true)), // finishes second
		withUndo(step("fast", true)), // finishes first
		step("plain", true),          // succeeded, nothing to undo
		withUndo(step("finish", true, "slow", "fast", "plain")),
		withUndo(step("never", true, "finish")))
	env := setup(t, def, f, map[string]time.Duration{"slow": 10 * time.Minute, "fast": time.Minute})
	u := &updateCallback{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(process.UpdateAbort, "abort-1", u.callbacks(), process.AbortRequest{User: "steward", Reason: "wrong wiki"})
	}, time.Hour)
	runDef(env, def)

	res := result(t, env)
	if u.failed != nil || u.rejected != nil {
		t.Fatalf("abort update: %v %v", u.rejected, u.failed)
	}
	if res.Status.State != process.StateAborted {
		t.Fatalf("state %s, want aborted", res.Status.State)
	}
	if got, want := f.undos(), []string{"undo-slow", "undo-fast"}; !slices.Equal(got, want) {
		t.Errorf("undo calls %v, want %v", got, want)
	}
	for name, undone := range map[string]bool{"slow": true, "fast": true, "plain": false, "finish": false, "never": false} {
		if s := res.Status.Step(name); s.Undone != undone {
			t.Errorf("step %s undone=%v, want %v", name, s.Undone, undone)
		}
	}
	wantStates(t, res.Status, map[string]process.StepState{"finish": "failed", "never": "blocked"})
}

func TestWindowExpiryWithCriticalFailureEndsFailed(t *testing.T) {
	f := newFakeFarm()
	f.setBroken("register", true)
	s := step("db", true)
	s.Undo = "undo-db"
	def := definition(2*time.Hour, s, step("register", true, "db"), step("welcome", true, "register"), step("logo", true))
	env := setup(t, def, f, nil)
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
	wantStates(t, res.Status, map[string]process.StepState{"db": "succeeded", "register": "failed", "welcome": "blocked", "logo": "succeeded"})
	if len(f.undos()) != 0 {
		t.Errorf("expiry must not undo anything, got %v", f.undos())
	}
	if !strings.Contains(app.Error(), "register is broken") {
		t.Errorf("failure message %q does not name the cause", app.Error())
	}
}

func TestCriticalFailureHoldsPendingStepsUntilExpiry(t *testing.T) {
	f := newFakeFarm()
	f.setBroken("db", true)
	def := definition(time.Hour, step("db", true), step("dns", true), step("verify", true, "dns"))
	env := setup(t, def, f, map[string]time.Duration{"dns": time.Minute})
	runDef(env, def)

	res := result(t, env)
	// verify became ready only after db had failed: never started, skipped at the end.
	wantStates(t, res.Status, map[string]process.StepState{"db": "failed", "dns": "succeeded", "verify": "skipped"})
	if f.called("verify") != 0 {
		t.Error("verify ran while the process needed attention")
	}
}

func TestUnauthorisedRetryIsRefusedAndRecorded(t *testing.T) {
	f := newFakeFarm()
	f.setBroken("db", true)
	def := definition(time.Hour, step("db", true))
	env := setup(t, def, f, nil)
	u := &updateCallback{}
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(process.SignalRetryStep, process.RetryRequest{User: "vandal", Step: "db"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(process.UpdateRetryStep, "retry-1", u.callbacks(), process.RetryRequest{User: "vandal", Step: "db"})
	}, 2*time.Minute)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateFailed || f.called("db") != 1 {
		t.Fatalf("state %s, db ran %d times: a refused retry must change nothing", res.Status.State, f.called("db"))
	}
	var app *temporal.ApplicationError
	if !errors.As(u.failed, &app) || app.Type() != process.ErrTypeRefused {
		t.Errorf("update error %v, want %s", u.failed, process.ErrTypeRefused)
	}
	if len(res.Status.Actions) != 2 {
		t.Fatalf("actions %+v, want two refusals", res.Status.Actions)
	}
	for _, a := range res.Status.Actions {
		if a.Accepted || a.User != "vandal" || a.Action != process.ActionRetry || !strings.Contains(a.Reason, "lacks managewiki on testwiki") {
			t.Errorf("action %+v", a)
		}
	}
}

// A right on the process's own wiki (LocalRights) also authorizes, when the
// central check says no.
func TestLocalRightsAuthorizeARetry(t *testing.T) {
	f := newFakeFarm()
	f.allowedOn = map[string]string{"localcrat": "testwiki"}
	f.setBroken("page", true)
	def := definition(time.Hour, step("db", true), step("page", false, "db"))
	def.Authorize.Wiki = "metawiki"
	def.Authorize.LocalRights = []process.Right{"managewiki-core"}
	env := setup(t, def, f, nil)
	env.RegisterDelayedCallback(func() {
		f.setBroken("page", false)
		env.SignalWorkflow(process.SignalRetryStep, process.RetryRequest{User: "localcrat", Step: "page"})
	}, time.Minute)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateCompleted || f.called("page") != 2 {
		t.Fatalf("state %s, page ran %d times: want the local bureaucrat's retry accepted", res.Status.State, f.called("page"))
	}
	if a := res.Status.Actions; len(a) != 1 || !a[0].Accepted {
		t.Fatalf("actions %+v", a)
	}
}

func TestUpdateValidatorRejects(t *testing.T) {
	f := newFakeFarm()
	f.setBroken("db", true)
	def := definition(time.Hour, step("db", true), step("dns", false))
	env := setup(t, def, f, nil)
	unknown, notFailed, noUser := &updateCallback{}, &updateCallback{}, &updateCallback{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(process.UpdateRetryStep, "u1", unknown.callbacks(), process.RetryRequest{User: "steward", Step: "nope"})
		env.UpdateWorkflow(process.UpdateRetryStep, "u2", notFailed.callbacks(), process.RetryRequest{User: "steward", Step: "dns"})
		env.UpdateWorkflow(process.UpdateAbort, "u3", noUser.callbacks(), process.AbortRequest{})
	}, time.Minute)
	runDef(env, def)

	for _, c := range []struct {
		u    *updateCallback
		want string
	}{{unknown, `unknown step "nope"`}, {notFailed, `step "dns" is succeeded, not failed`}, {noUser, "no user given"}} {
		if c.u.rejected == nil || !strings.Contains(c.u.rejected.Error(), c.want) {
			t.Errorf("rejection %v, want %q", c.u.rejected, c.want)
		}
	}
	res := result(t, env)
	if len(res.Status.Actions) != 0 || f.called("authorize:steward") != 0 {
		t.Errorf("a rejected update must leave no trace: actions %+v", res.Status.Actions)
	}
}

func TestIndependentStepsRunConcurrently(t *testing.T) {
	f := newFakeFarm()
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
			return temporal.NewNonRetryableApplicationError("the other step never started", "Serial", nil)
		}
	}
	f.hooks["a"], f.hooks["b"] = barrier, barrier
	def := definition(0, step("a", true), step("b", true), step("c", true, "a", "b"))
	env := setup(t, def, f, nil)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateCompleted {
		t.Fatalf("state %s: %+v", res.Status.State, res.Status.Steps)
	}
}

func TestStatusQueryAfterCompletion(t *testing.T) {
	f := newFakeFarm()
	def := definition(time.Hour, step("a", true), step("b", false, "a"))
	env := setup(t, def, f, nil)
	runDef(env, def)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	st := status(t, env)
	if st.State != process.StateCompleted || st.Kind != "test-process" || st.Wiki != "testwiki" || st.Requester != "alice" {
		t.Errorf("status %+v", st)
	}
	wantStates(t, st, map[string]process.StepState{"a": "succeeded", "b": "succeeded"})
}

func TestInvalidDefinitionFailsTheWorkflow(t *testing.T) {
	f := newFakeFarm()
	def := definition(time.Hour, step("a", true, "b"), step("b", true, "a"))
	env := setup(t, def, f, nil)
	runDef(env, def)
	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "a -> b -> a") {
		t.Fatalf("error %v, want the cycle named", err)
	}
}

func TestAbortWhileRunningWaitsThenUndoes(t *testing.T) {
	f := newFakeFarm()
	withUndo := func(s process.StepDef) process.StepDef { s.Undo = "undo-" + s.Name; return s }
	def := definition(time.Hour, withUndo(step("db", true)), withUndo(step("import", true, "db")), step("announce", true, "import"))
	env := setup(t, def, f, map[string]time.Duration{"import": 10 * time.Minute})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(process.SignalAbort, process.AbortRequest{User: "steward", Reason: "requested by mistake"})
	}, 5*time.Minute)
	env.RegisterDelayedCallback(func() {
		if st := status(t, env); st.Step("import").State != process.StepRunning || len(f.undos()) != 0 {
			t.Errorf("at 7m: import %s, undos %v; want import still running, nothing undone yet", st.Step("import").State, f.undos())
		}
	}, 7*time.Minute)
	runDef(env, def)

	res := result(t, env)
	if res.Status.State != process.StateAborted {
		t.Fatalf("state %s, want aborted", res.Status.State)
	}
	if got, want := f.undos(), []string{"undo-import", "undo-db"}; !slices.Equal(got, want) {
		t.Errorf("undo calls %v, want %v", got, want)
	}
	wantStates(t, res.Status, map[string]process.StepState{"import": "succeeded", "announce": "skipped"})
	if a := res.Status.Actions; len(a) != 1 || !a[0].Accepted || a[0].Reason != "requested by mistake" {
		t.Errorf("actions %+v", a)
	}
}

func TestCancelCountsAsAbort(t *testing.T) {
	f := newFakeFarm()
	s := step("db", true)
	s.Undo = "undo-db"
	def := definition(time.Hour, s, step("import", true, "db"))
	env := setup(t, def, f, map[string]time.Duration{"import": 10 * time.Minute})
	env.RegisterDelayedCallback(env.CancelWorkflow, 5*time.Minute)
	runDef(env, def)

	var canceled *temporal.CanceledError
	if err := env.GetWorkflowError(); !errors.As(err, &canceled) {
		t.Fatalf("workflow error %v, want cancelled", err)
	}
	if got := f.undos(); !slices.Equal(got, []string{"undo-db"}) {
		t.Errorf("undo calls %v: the cleanup must run on a disconnected context", got)
	}
	st := status(t, env)
	if st.State != process.StateAborted || st.Step("import").State != process.StepFailed {
		t.Errorf("state %s, import %s", st.State, st.Step("import").State)
	}
}
