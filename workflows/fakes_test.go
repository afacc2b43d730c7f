package workflows

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
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
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// This file holds the fakes and helpers shared by the gate, deletion,
// restore, setting, wiki request and identity tests: one fake MediaWiki farm
// whose activities are registered by name and record every call, the test
// environment that registers them, and a workflow that only runs a gate.

const (
	gwWiki    = "testwiki" // the wiki a process works on
	gwCentral = "metawiki" // the central wiki
	gwRight   = process.RightManageWikiCore
	gwSteward = process.RightManageWikiRestricted
)

// fakeMW stands in for every activity the approval workflows run.
type fakeMW struct {
	mu      sync.Mutex
	calls   []string                       // activity names, in call order
	steps   map[string][]process.StepInput // inputs of step-like activities, by name
	authz   []process.AuthorizeInput       // CheckRights inputs
	rights  map[string]bool                // "user|right|wiki"
	outputs map[string]map[string]string   // step outputs by activity name
	errs    map[string]error               // errors by activity name

	// The fake's accounts: every name is an account of its own (its id a
	// hash of the name) unless it is in aliases (another spelling of an
	// account, as MediaWiki's title rules make them) or in noAccount.
	aliases   map[string]string
	noAccount map[string]bool

	owners map[string]string // wiki -> owning workflow ID (OwnWiki, ReleaseWiki)
	// external, when set, is a cw_status another writer put there: an
	// UpdateRequest expecting another status writes nothing and says so.
	external string

	lookup    farmdb.Wiki // LookupWiki answer
	lookupErr error
	holders   []string // CountRightHolders answer
	holderIn  []activities.RightHoldersInput
	fileID    int64
	files     []activities.FileRequestInput
	edits     []activities.EditRequestInput
	updates   []activities.UpdateRequestInput
}

func newFakeMW() *fakeMW {
	return &fakeMW{
		steps: map[string][]process.StepInput{}, rights: map[string]bool{},
		outputs: map[string]map[string]string{}, errs: map[string]error{},
		aliases: map[string]string{}, owners: map[string]string{}, noAccount: map[string]bool{},
		lookup: farmdb.Wiki{DBName: gwWiki, Sitename: "Test"}, fileID: 42,
	}
}

// grant lets user hold right on wiki.
func (f *fakeMW) grant(user, right, wiki string) *fakeMW {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rights[user+"|"+right+"|"+wiki] = true
	return f
}

// alias makes spelling another name of the account canonical.
func (f *fakeMW) alias(spelling, canonical string) *fakeMW {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.aliases[spelling] = canonical
	return f
}

// account is who MediaWiki would say name is: canonical name and central
// id, or no account. Call with f.mu held.
func (f *fakeMW) account(name string) (string, int) {
	if c, ok := f.aliases[name]; ok {
		name = c
	}
	if f.noAccount[name] || name == "" {
		return name, 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return name, int(h.Sum32()%1_000_000) + 1
}

// idOf is the fake central id of an account.
func (f *fakeMW) idOf(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, id := f.account(name)
	return id
}

func (f *fakeMW) fail(name string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs[name] = err
}

func (f *fakeMW) log(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, name)
	return f.errs[name]
}

// deniedReason is what the fake CheckRights answers for a refusal.
func deniedReason(user, wiki string, rights []string) string {
	return fmt.Sprintf("%s holds none of %s on %s (fake)", user, strings.Join(rights, ","), wiki)
}

func (f *fakeMW) checkRights(_ context.Context, in process.AuthorizeInput) (process.AuthorizeResult, error) {
	if err := f.log(activities.NameCheckRights); err != nil {
		return process.AuthorizeResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.authz = append(f.authz, in)
	name, id := f.account(in.User)
	if id == 0 {
		return process.AuthorizeResult{NoAccount: true, Reason: in.User + " has no account on the farm (fake)"}, nil
	}
	for _, r := range in.AnyRight {
		if f.rights[name+"|"+r+"|"+in.Wiki] {
			return process.AuthorizeResult{Allowed: true, Rights: []string{r}, User: name, UserID: id}, nil
		}
	}
	return process.AuthorizeResult{Reason: deniedReason(name, in.Wiki, in.AnyRight), User: name, UserID: id}, nil
}

// decisionChecks are the rights checks of decisions: all but the test
// workflow's own "who is the requester" question (no right asked).
func (f *fakeMW) decisionChecks() []process.AuthorizeInput {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []process.AuthorizeInput
	for _, a := range f.authz {
		if len(a.AnyRight) > 0 {
			out = append(out, a)
		}
	}
	return out
}

// checksOf counts the decision rights checks about user.
func (f *fakeMW) checksOf(user string) int {
	n := 0
	for _, a := range f.decisionChecks() {
		if a.User == user {
			n++
		}
	}
	return n
}

// asked reports whether CheckRights was asked about user.
func (f *fakeMW) asked(user string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.authz {
		if a.User == user {
			return true
		}
	}
	return false
}

func (f *fakeMW) step(name string) func(context.Context, process.StepInput) (process.StepResult, error) {
	return func(_ context.Context, in process.StepInput) (process.StepResult, error) {
		err := f.log(name)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.steps[name] = append(f.steps[name], in)
		if err != nil {
			return process.StepResult{}, err
		}
		// The fake farm's registration follows what the steps did.
		switch name {
		case activities.NameMarkWikiDeleted:
			f.lookup.Deleted = true
		case activities.NameReopenWiki:
			f.lookup.Deleted = false
		}
		out := f.outputs[name]
		if out == nil {
			out = map[string]string{name: "ok"}
		}
		return process.StepResult{Summary: name + " done", Outputs: out}, nil
	}
}

func (f *fakeMW) lookupWiki(_ context.Context, in activities.LookupWikiInput) (activities.LookupWikiResult, error) {
	if err := f.log("LookupWiki"); err != nil {
		return activities.LookupWikiResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.lookup
	w.DBName = in.DB
	return activities.LookupWikiResult{Wiki: w}, f.lookupErr
}

func (f *fakeMW) countRightHolders(_ context.Context, in activities.RightHoldersInput) (activities.RightHoldersResult, error) {
	if err := f.log(activities.NameCountRightHolders); err != nil {
		return activities.RightHoldersResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.holderIn = append(f.holderIn, in)
	return activities.RightHoldersResult{Users: slices.Clone(f.holders)}, nil
}

func (f *fakeMW) fileWikiRequest(_ context.Context, in activities.FileRequestInput) (activities.FileRequestResult, error) {
	if err := f.log(activities.NameFileWikiRequest); err != nil {
		return activities.FileRequestResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files = append(f.files, in)
	name, id := f.account(in.Requester)
	if id == 0 {
		return activities.FileRequestResult{}, temporal.NewNonRetryableApplicationError(in.Requester+" has no account on the farm (fake)", activities.ErrInvalidInput, nil)
	}
	return activities.FileRequestResult{ID: f.fileID, UserID: id, Requester: name}, nil
}

func (f *fakeMW) editWikiRequest(_ context.Context, in activities.EditRequestInput) (process.StepResult, error) {
	if err := f.log(activities.NameEditWikiRequest); err != nil {
		return process.StepResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.edits = append(f.edits, in)
	return process.StepResult{Summary: "edited"}, nil
}

func (f *fakeMW) updateRequest(_ context.Context, in activities.UpdateRequestInput) (activities.UpdateRequestResult, error) {
	if err := f.log(activities.NameUpdateRequest); err != nil {
		return activities.UpdateRequestResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.external != "" && in.Expect != "" && in.Status != "" && f.external != in.Expect {
		return activities.UpdateRequestResult{Status: f.external, Changed: true}, nil
	}
	f.updates = append(f.updates, in)
	return activities.UpdateRequestResult{Status: in.Status, Action: in.Action}, nil
}

func (f *fakeMW) OwnWiki(ctx context.Context, in activities.OwnWikiInput) (activities.OwnWikiResult, error) {
	if err := f.log("OwnWiki"); err != nil {
		return activities.OwnWikiResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	me := activity.GetInfo(ctx).WorkflowExecution.ID
	if held := f.owners[in.Wiki]; held != "" && held != me {
		return activities.OwnWikiResult{Owner: held}, temporal.NewNonRetryableApplicationError(
			in.Wiki+" is in the hands of the open process "+held+" (fake)", activities.ErrOwned, nil)
	}
	f.owners[in.Wiki] = me
	return activities.OwnWikiResult{Owner: me}, nil
}

func (f *fakeMW) ReleaseWiki(ctx context.Context, in activities.ReleaseWikiInput) (activities.ReleaseWikiResult, error) {
	if err := f.log("ReleaseWiki"); err != nil {
		return activities.ReleaseWikiResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.owners[in.Wiki] == activity.GetInfo(ctx).WorkflowExecution.ID {
		delete(f.owners, in.Wiki)
	}
	return activities.ReleaseWikiResult{}, nil
}

// called counts the calls of an activity.
func (f *fakeMW) called(name string) int {
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

// firstCall is the index of the first call of name in the call log, or -1.
func (f *fakeMW) firstCall(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Index(f.calls, name)
}

// statuses lists the statuses UpdateRequest was asked to set, in order.
func (f *fakeMW) statuses() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, u := range f.updates {
		if u.Status != "" {
			out = append(out, u.Status)
		}
	}
	return out
}

// stepActivities are the step-like activities (StepInput -> StepResult) of
// every workflow under test.
var stepActivities = []string{
	activities.NameCloseWiki, activities.NameMarkWikiDeleted, activities.NameReopenWiki, activities.NameNotifyBureaucrats,
	activities.NameBackupDatabase, activities.NameArchiveUploads, activities.NameExportWikiRows,
	activities.NameVerifyBackup, activities.NameDropWikiDatabase,
	activities.NameRemoveWikiRows, activities.NameRemoveStorage,
	activities.NameValidateSettingChange, activities.NameApplySetting,
	activities.NameValidateWiki, activities.NameCreateDatabase, activities.NameDropDatabase, activities.NameCreateSchema,
	activities.NameRegisterWiki, activities.NameUnregisterWiki, activities.NameGrantRequesterRights,
	activities.NameCreateMainPage, activities.NameCreateStorage, activities.NameNotifyCreated,
}

// delay makes an activity take d on the workflow clock; when user is not
// empty, only the CheckRights calls about that user are delayed.
type delay struct {
	activity string
	user     string
	d        time.Duration
}

// newGateEnv builds a test environment with every fake activity registered
// by name; the delays are mocks, added after every registration.
func newGateEnv(t *testing.T, f *fakeMW, delays ...delay) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(gateWorkflow, workflow.RegisterOptions{Name: "GateTest"})
	env.RegisterWorkflow(DeleteWiki)
	env.RegisterWorkflow(ChangeSetting)
	env.RegisterWorkflow(RequestWiki)
	env.RegisterWorkflow(CreateWiki)
	for _, name := range stepActivities {
		env.RegisterActivityWithOptions(f.step(name), activity.RegisterOptions{Name: name})
	}
	env.RegisterActivityWithOptions(f.checkRights, activity.RegisterOptions{Name: activities.NameCheckRights})
	env.RegisterActivityWithOptions(f.lookupWiki, activity.RegisterOptions{Name: "LookupWiki"})
	env.RegisterActivityWithOptions(f.countRightHolders, activity.RegisterOptions{Name: activities.NameCountRightHolders})
	env.RegisterActivityWithOptions(f.fileWikiRequest, activity.RegisterOptions{Name: activities.NameFileWikiRequest})
	env.RegisterActivityWithOptions(f.editWikiRequest, activity.RegisterOptions{Name: activities.NameEditWikiRequest})
	env.RegisterActivityWithOptions(f.updateRequest, activity.RegisterOptions{Name: activities.NameUpdateRequest})
	env.RegisterActivityWithOptions(f.OwnWiki, activity.RegisterOptions{Name: "OwnWiki"})
	env.RegisterActivityWithOptions(f.ReleaseWiki, activity.RegisterOptions{Name: "ReleaseWiki"})
	rightsDelayed := false
	for _, d := range delays {
		if d.activity == activities.NameCheckRights {
			user := d.user
			env.OnActivity(activities.NameCheckRights, mock.Anything,
				mock.MatchedBy(func(in process.AuthorizeInput) bool { return in.User == user })).
				After(d.d).Return(f.checkRights)
			rightsDelayed = true
			continue
		}
		env.OnActivity(d.activity, mock.Anything, mock.Anything).After(d.d).Return(f.step(d.activity))
	}
	if rightsDelayed { // every other CheckRights call goes to the fake at once
		env.OnActivity(activities.NameCheckRights, mock.Anything, mock.Anything).Return(f.checkRights)
	}
	return env
}

// wantStepStates checks the states of the named steps.
func wantStepStates(t *testing.T, st process.Status, want map[string]string) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if s := st.Step(name); s == nil {
			t.Errorf("no step %q in status", name)
		} else if s.State != want[name] {
			t.Errorf("step %s is %s (error %q), want %s", name, s.State, s.Error, want[name])
		}
	}
}

// queryStatus asks the workflow's status query.
func queryStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) process.Status {
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

// upd collects the outcome of one update.
type upd struct {
	rejected error
	done     bool
	result   any
	err      error
}

func (u *upd) cb() *testsuite.TestUpdateCallback {
	return &testsuite.TestUpdateCallback{
		OnAccept:   func() {},
		OnReject:   func(err error) { u.rejected = err },
		OnComplete: func(res any, err error) { u.done, u.result, u.err = true, res, err },
	}
}

// wantProcessRefused checks that a process ended refused: the workflow
// completed without an error (the Web UI's Failed list is for failures),
// and its status says refused with msg as the reason.
func wantProcessRefused(t *testing.T, env *testsuite.TestWorkflowEnvironment, msg string) process.Status {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error %v, want a refusal that completes", err)
	}
	st := queryStatus(t, env)
	if st.State != process.StateRefused || !strings.Contains(st.Result["error"], msg) || st.Ended.IsZero() {
		t.Errorf("status %s error %q ended %v, want refused with %q", st.State, st.Result["error"], st.Ended, msg)
	}
	return st
}

// wantRefused checks that an update ran and failed as a refusal whose
// message contains reason.
func wantRefused(t *testing.T, what string, u *upd, reason string) {
	t.Helper()
	if u.rejected != nil || !u.done {
		t.Errorf("%s: rejected %v, done %v; want it run and refused", what, u.rejected, u.done)
		return
	}
	var app *temporal.ApplicationError
	if !errors.As(u.err, &app) || app.Type() != process.ErrTypeRefused || !strings.Contains(app.Message(), reason) {
		t.Errorf("%s: error %v, want a %s error containing %q", what, u.err, process.ErrTypeRefused, reason)
	}
}

func wantAccepted(t *testing.T, what string, u *upd) {
	t.Helper()
	if u.rejected != nil || !u.done || u.err != nil {
		t.Errorf("%s: rejected %v, done %v, error %v; want accepted", what, u.rejected, u.done, u.err)
	}
}

// elapsed is how long after the process started "at" was (the test
// environment's clock is skipped, so these durations are exact).
func elapsed(st process.Status, at time.Time) time.Duration { return at.Sub(st.Started) }

// --- the gate, through a workflow that only runs one ---------------------

type gateInput struct {
	Policy    process.ApprovalPolicy
	Requester string
	// Linger keeps the workflow running this long after the gate closed,
	// to send it decisions that come too late.
	Linger time.Duration
}

type gateResult struct {
	Outcome string
	Status  process.Status
}

func gateWorkflow(ctx workflow.Context, in gateInput) (gateResult, error) {
	st := &process.Status{
		ID: workflow.GetInfo(ctx).WorkflowExecution.ID, Kind: "gate-test", State: process.StateRunning,
		Wiki: gwWiki, Requester: in.Requester, Started: workflow.Now(ctx),
	}
	if err := workflow.SetQueryHandler(ctx, process.QueryStatus, func() (process.Status, error) { return *st, nil }); err != nil {
		return gateResult{}, err
	}
	requester := process.Person{Name: in.Requester}
	if KnowsPeople(ctx) {
		var who process.AuthorizeResult
		err := workflow.ExecuteActivity(ActivityCtx(ctx, "who"), activities.NameCheckRights,
			process.AuthorizeInput{User: in.Requester, Wiki: gwWiki}).Get(ctx, &who)
		if err != nil {
			return gateResult{}, err
		}
		requester = process.Person{Name: who.User, ID: who.UserID}
	}
	g, err := NewGate(ctx, in.Policy, gwWiki, requester, st)
	if err != nil {
		return gateResult{}, err
	}
	outcome, err := g.Wait(ctx)
	if err != nil {
		return gateResult{}, err
	}
	st.State = outcome
	if in.Linger > 0 {
		if err := workflow.Sleep(ctx, in.Linger); err != nil {
			return gateResult{}, err
		}
	}
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	g.Drain(ctx)
	st.Ended = workflow.Now(ctx)
	return gateResult{Outcome: outcome, Status: *st}, nil
}

// gatePolicy: two local holders of managewiki-core, or one steward; two
// declines end it; a week to decide.
func gatePolicy() process.ApprovalPolicy {
	return process.ApprovalPolicy{
		Quorum: 2, Right: gwRight, OverrideRight: gwSteward, OverrideWiki: gwCentral,
		DeclinesToEnd: 2, Expiry: 7 * 24 * time.Hour, Authorize: activities.NameCheckRights,
	}
}

// gateFake: alice, bob and carol hold managewiki-core on the wiki, and so
// does the requester; steward holds managewiki-restricted on the central
// wiki; mallory holds nothing.
func gateFake() *fakeMW {
	f := newFakeMW()
	for _, u := range []string{"alice", "bob", "carol", "req"} {
		f.grant(u, gwRight, gwWiki)
	}
	f.grant("steward", gwSteward, gwCentral)
	return f
}

func runGate(t *testing.T, env *testsuite.TestWorkflowEnvironment, in gateInput) gateResult {
	t.Helper()
	if in.Requester == "" {
		in.Requester = "req"
	}
	env.ExecuteWorkflow("GateTest", in)
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	var res gateResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatalf("result: %v", err)
	}
	return res
}

func decide(env *testsuite.TestWorkflowEnvironment, id, action, user, comment string) *upd {
	u := &upd{}
	env.UpdateWorkflow(process.UpdateDecide, id, u.cb(), process.DecideRequest{Action: action, User: user, Comment: comment})
	return u
}

func signal(env *testsuite.TestWorkflowEnvironment, action, user, comment string) {
	env.SignalWorkflow(action, process.Decision{User: user, Comment: comment})
}

// wantRecords compares the gate's records on user, decision, accepted,
// override and (a part of) the reason.
func wantRecords(t *testing.T, got []process.ApprovalRecord, want ...process.ApprovalRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("records:\n%s\nwant %d", fmtRecords(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.User != w.User || g.Decision != w.Decision || g.Accepted != w.Accepted || g.Override != w.Override ||
			!strings.Contains(g.Reason, w.Reason) || (w.Reason == "" && g.Reason != "") {
			t.Errorf("record %d: %+v, want %+v", i, g, w)
		}
	}
}

func fmtRecords(recs []process.ApprovalRecord) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "  %s %s accepted=%v override=%v reason=%q\n", r.User, r.Decision, r.Accepted, r.Override, r.Reason)
	}
	return b.String()
}

func rec(user, decision string, accepted bool, reason string) process.ApprovalRecord {
	return process.ApprovalRecord{User: user, Decision: decision, Accepted: accepted, Reason: reason}
}

// endStatus is the final status of a process workflow that completed
// without error (every process result carries its Status).
func endStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) process.Status {
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
