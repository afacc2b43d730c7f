package workflowtest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// Env is the test environment the workflows run in.
type Env = testsuite.TestWorkflowEnvironment

// Permanent is the non-retryable error of type typ an activity fails with
// when trying again cannot help.
func Permanent(msg, typ string) error {
	return temporal.NewNonRetryableApplicationError(msg, typ, nil)
}

// Delay makes an activity take D on the workflow clock; when User is not
// empty, only the CheckRights calls about that user are delayed.
type Delay struct {
	Activity string
	User     string
	D        time.Duration
}

// SlowRights delays the CheckRights calls about user by d.
func SlowRights(user string, d time.Duration) Delay {
	return Delay{Activity: activities.NameCheckRights, User: user, D: d}
}

// NewEnv builds a test environment that runs the workflows wfs, with every
// fake activity of f registered by name; the delays are mocks, added after
// every registration.
func NewEnv(t *testing.T, f *Farm, wfs []any, delays ...Delay) *Env {
	t.Helper()
	return newEnv(f, stepActivities, delays, func(env *Env) {
		for _, w := range wfs {
			env.RegisterWorkflow(w)
		}
	})
}

// NewProcessEnv is NewEnv for the process workflow running def: every
// step and undo activity of def is a Step of f under its name (CheckRights
// is the rights check a definition names).
func NewProcessEnv(t *testing.T, f *Farm, def process.Definition, delays ...Delay) *Env {
	t.Helper()
	var steps []string
	for _, s := range def.Steps {
		steps = append(steps, s.Activity)
		if s.Undo != "" {
			steps = append(steps, s.Undo)
		}
	}
	return newEnv(f, steps, delays, func(env *Env) { workflows.RegisterProcessWorkflow(env) })
}

// newEnv registers what register does, f.Step under every name of steps
// and the other fakes of f, then mocks the delays.
func newEnv(f *Farm, steps []string, delays []Delay, register func(*Env)) *Env {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	register(env)
	for _, name := range steps {
		env.RegisterActivityWithOptions(f.Step(name), activity.RegisterOptions{Name: name})
	}
	env.RegisterActivityWithOptions(f.checkRights, activity.RegisterOptions{Name: activities.NameCheckRights})
	env.RegisterActivityWithOptions(f.lookupWiki, activity.RegisterOptions{Name: "LookupWiki"})
	env.RegisterActivityWithOptions(f.countRightHolders, activity.RegisterOptions{Name: deletewiki.NameCountRightHolders})
	env.RegisterActivityWithOptions(f.fileWikiRequest, activity.RegisterOptions{Name: requestwiki.NameFileWikiRequest})
	env.RegisterActivityWithOptions(f.editWikiRequest, activity.RegisterOptions{Name: requestwiki.NameEditWikiRequest})
	env.RegisterActivityWithOptions(f.updateRequest, activity.RegisterOptions{Name: requestwiki.NameUpdateRequest})
	env.RegisterActivityWithOptions(f.ownWiki, activity.RegisterOptions{Name: "OwnWiki"})
	env.RegisterActivityWithOptions(f.releaseWiki, activity.RegisterOptions{Name: "ReleaseWiki"})
	env.RegisterActivityWithOptions(f.storeEvents, activity.RegisterOptions{Name: activities.NameStoreEvents})
	rightsDelayed := false
	for _, d := range delays {
		if d.Activity == activities.NameCheckRights {
			user := d.User
			env.OnActivity(activities.NameCheckRights, mock.Anything,
				mock.MatchedBy(func(in process.AuthorizeInput) bool { return in.User == user })).
				After(d.D).Return(f.checkRights)
			rightsDelayed = true
			continue
		}
		env.OnActivity(d.Activity, mock.Anything, mock.Anything).After(d.D).Return(f.Step(d.Activity))
	}
	if rightsDelayed { // every other CheckRights call goes to the fake at once
		env.OnActivity(activities.NameCheckRights, mock.Anything, mock.Anything).Return(f.checkRights)
	}
	return env
}

// WantStepStates checks the states of the named steps.
func WantStepStates(t *testing.T, st process.Status, want map[string]process.StepState) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if s := st.Step(name); s == nil {
			t.Errorf("no step %q in status", name)
		} else if s.State != want[name] {
			t.Errorf("step %s is %s (error %q), want %s", name, s.State, s.Error, want[name])
		}
	}
}

// QueryStatus asks the workflow's status query.
func QueryStatus(t *testing.T, env *Env) process.Status {
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

// WantWaiting checks that the process still waits for approval; when
// says at what point, for the message.
func WantWaiting(t *testing.T, env *Env, when string) {
	t.Helper()
	if st := QueryStatus(t, env); st.State != process.StateWaitingApproval {
		t.Errorf("state %s %s, want still waiting for approval", st.State, when)
	}
}

// Upd collects the outcome of one update.
type Upd struct {
	Rejected error // the validator's rejection
	Done     bool  // the handler ran to its end
	Result   any
	Err      error
}

func (u *Upd) callback() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { u.Rejected = err },
		OnComplete: func(res any, err error) { u.Done, u.Result, u.Err = true, res, err },
	}
}

// Update sends the update name with id and arg; the outcome fills in the
// Upd as the workflow answers.
func Update(env *Env, name, id string, arg any) *Upd {
	u := &Upd{}
	env.UpdateWorkflow(name, id, u.callback(), arg)
	return u
}

// Decide sends a decision by the decide update.
func Decide(env *Env, id string, action process.Decision, user, comment string) *Upd {
	return Update(env, process.UpdateDecide, id, process.DecideRequest{Action: action, User: user, Comment: comment})
}

// DecideWhileWaiting checks that the process still waits for approval
// (when says at what point, as for WantWaiting), then sends the decision.
func DecideWhileWaiting(t *testing.T, env *Env, when, id string, action process.Decision, user, comment string) *Upd {
	t.Helper()
	WantWaiting(t, env, when)
	return Decide(env, id, action, user, comment)
}

// Signal sends a decision by signal.
func Signal(env *Env, action, user, comment string) {
	env.SignalWorkflow(action, process.DecisionSignal{User: user, Comment: comment})
}

// WantProcessRefused checks that a process ended refused: the workflow
// completed without an error (the Web UI's Failed list is for failures),
// and its status says refused with msg as the reason.
func WantProcessRefused(t *testing.T, env *Env, msg string) process.Status {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error %v, want a refusal that completes", err)
	}
	st := QueryStatus(t, env)
	if st.State != process.StateRefused || !strings.Contains(st.Result[process.ResultError], msg) || st.Ended.IsZero() {
		t.Errorf("status %s error %q ended %v, want refused with %q", st.State, st.Result[process.ResultError], st.Ended, msg)
	}
	return st
}

// WantRefused checks that an update ran and failed as a refusal whose
// message contains reason.
func WantRefused(t *testing.T, what string, u *Upd, reason string) {
	t.Helper()
	if u.Rejected != nil || !u.Done {
		t.Errorf("%s: rejected %v, done %v; want it run and refused", what, u.Rejected, u.Done)
		return
	}
	var app *temporal.ApplicationError
	if !errors.As(u.Err, &app) || app.Type() != process.ErrTypeRefused || !strings.Contains(app.Message(), reason) {
		t.Errorf("%s: error %v, want a %s error containing %q", what, u.Err, process.ErrTypeRefused, reason)
	}
}

// WantAccepted checks that an update ran and succeeded.
func WantAccepted(t *testing.T, what string, u *Upd) {
	t.Helper()
	if u.Rejected != nil || !u.Done || u.Err != nil {
		t.Errorf("%s: rejected %v, done %v, error %v; want accepted", what, u.Rejected, u.Done, u.Err)
	}
}

// Elapsed is how long after the process started "at" was (the test
// environment's clock is skipped, so these durations are exact).
func Elapsed(st process.Status, at time.Time) time.Duration { return at.Sub(st.Started) }

// WantRecords compares the gate's records on user, decision, accepted,
// override and (a part of) the reason.
func WantRecords(t *testing.T, got []process.ApprovalRecord, want ...process.ApprovalRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("records:\n%s\nwant %d", FormatRecords(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.User != w.User || g.Decision != w.Decision || g.Accepted != w.Accepted || g.Override != w.Override ||
			!strings.Contains(g.Reason, w.Reason) || (w.Reason == "" && g.Reason != "") {
			t.Errorf("record %d: %+v, want %+v", i, g, w)
		}
	}
}

// FormatRecords lists the records one a line, for a test's message.
func FormatRecords(recs []process.ApprovalRecord) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %s %s accepted=%v override=%v reason=%q\n", r.User, r.Decision, r.Accepted, r.Override, r.Reason)
	}
	return b.String()
}

// Rec is the record WantRecords expects of a decision without override.
func Rec(user string, decision process.Decision, accepted bool, reason string) process.ApprovalRecord {
	return process.ApprovalRecord{User: user, Decision: decision, Accepted: accepted, Reason: reason}
}

// EndStatus is the final status of a process workflow that completed
// without error (every process result carries its Status).
func EndStatus(t *testing.T, env *Env) process.Status {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	var res struct{ Status process.Status }
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatalf("result: %v", err)
	}
	return res.Status
}
