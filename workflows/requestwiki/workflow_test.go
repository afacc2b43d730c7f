package requestwiki_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

// requestFake: r1, r2 and r3 hold createwiki on the central wiki; the
// requester holds nothing; FileWikiRequest answers id 42.
func requestFake() *workflowtest.Farm {
	f := workflowtest.NewFarm()
	for _, u := range []string{"r1", "r2", "r3"} {
		f.Grant(u, process.RightCreateWiki, workflowtest.Central)
	}
	return f
}

// newEnv is the test environment of a wiki request and the creation it
// starts.
func newEnv(t *testing.T, f *workflowtest.Farm, delays ...workflowtest.Delay) *workflowtest.Env {
	t.Helper()
	return workflowtest.NewEnv(t, f, workflowtest.RequestWorkflows, delays...)
}

func runRequest(env *workflowtest.Env) {
	env.ExecuteWorkflow(requestwiki.RequestWiki, workflowtest.RequestInput())
}

func reviewUpd(env *workflowtest.Env, id, action, user, comment string) *workflowtest.Upd {
	return workflowtest.Update(env, requestwiki.UpdateReview, id, requestwiki.ReviewRequest{Action: action, User: user, Comment: comment})
}

func wantStatuses(t *testing.T, f *workflowtest.Farm, want ...string) {
	t.Helper()
	if got := f.Statuses(); !slices.Equal(got, want) {
		t.Errorf("cw_requests statuses set %v, want %v", got, want)
	}
}

// findUpdate returns the first UpdateRequest call with that status (or, for
// "", that action), or fails.
func findUpdate(t *testing.T, f *workflowtest.Farm, status, action string) requestwiki.UpdateRequestInput {
	t.Helper()
	var updates []requestwiki.UpdateRequestInput
	f.Locked(func() { updates = slices.Clone(f.Updates) })
	for _, u := range updates {
		if (status != "" && u.Status == status) || (status == "" && u.Status == "" && u.Action == action) {
			return u
		}
	}
	t.Fatalf("no UpdateRequest with status %q action %q in %+v", status, action, updates)
	return requestwiki.UpdateRequestInput{}
}

var createSteps = []string{
	createwiki.NameCreateDatabase, createwiki.NameCreateSchema, createwiki.NameRegisterWiki,
	createwiki.NameGrantRequesterRights, createwiki.NameCreateMainPage, createwiki.NameCreateStorage, createwiki.NameNotifyCreated,
}

func wantNotCreated(t *testing.T, f *workflowtest.Farm) {
	t.Helper()
	for _, a := range append([]string{createwiki.NameValidateWiki}, createSteps...) {
		if f.Called(a) != 0 {
			t.Errorf("%s called: the wiki must not be created", a)
		}
	}
}

func TestRequestWikiTwoApprovalsCreateTheWiki(t *testing.T) {
	f := requestFake()
	env := newEnv(t, f)
	var first *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result[requestwiki.ResultRequestID] != "42" || st.Result[requestwiki.ResultRequestStatus] != farmdb.RequestInReview {
			t.Errorf("state %s result %v, want waiting on request 42 in review", st.State, st.Result)
		}
		first = workflowtest.Decide(env, "a1", process.DecisionApprove, "r1", "good idea")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		if f.Called(createwiki.NameValidateWiki) != 0 {
			t.Error("creation started after one approval of two")
		}
		env.SignalWorkflow(process.SignalApprove, process.DecisionSignal{User: "r2", Comment: "+1"})
	}, 2*time.Hour)
	runRequest(env)
	st := workflowtest.EndStatus(t, env)

	workflowtest.WantAccepted(t, "r1", first)
	if st.State != process.StateCompleted || st.Result[requestwiki.ResultCreateState] != string(process.StateCompleted) {
		t.Fatalf("state %s result %v, want completed with the creation completed", st.State, st.Result)
	}
	if st.Result[requestwiki.ResultCreateProcess] != createwiki.CreateWikiID(workflowtest.NewWiki) || st.Result[requestwiki.ResultRequestStatus] != farmdb.RequestApproved {
		t.Errorf("result %v", st.Result)
	}
	if fi := f.Files; len(fi) != 1 || fi[0].DB != workflowtest.NewWiki || fi[0].Requester != "req" || fi[0].Central != workflowtest.Central || fi[0].Sitename != "New Wiki" {
		t.Errorf("FileWikiRequest inputs %+v", fi)
	}
	wantStatuses(t, f, farmdb.RequestApproved)
	if u := findUpdate(t, f, farmdb.RequestApproved, ""); u.ID != 42 || u.Comment != "Approved by r1 and r2" || u.Central != workflowtest.Central {
		t.Errorf("approval update %+v", u)
	}
	// Each accepted decision is commented; the approval status is set
	// before the creation starts.
	if c := findUpdate(t, f, "", string(process.DecisionApprove)); c.User != "r1" || c.Comment != "approve: good idea" {
		t.Errorf("first decision comment %+v", c)
	}
	if f.FirstCall(createwiki.NameValidateWiki) < 0 || f.FirstCall(createwiki.NameValidateWiki) < f.FirstCall(requestwiki.NameUpdateRequest) {
		t.Errorf("calls %v", f.Calls)
	}
	for _, a := range append([]string{createwiki.NameValidateWiki}, createSteps...) {
		if f.Called(a) != 1 {
			t.Errorf("%s called %d times, want once", a, f.Called(a))
		}
	}
	if in := f.Steps[createwiki.NameCreateDatabase]; len(in) != 1 || in[0].Wiki.DB != workflowtest.NewWiki || in[0].Args["email"] != "req@example.org" {
		t.Errorf("CreateDatabase input %+v", in)
	}
	if c := findUpdate(t, f, "", "create-wiki"); c.Comment != "The wiki's creation ended completed." {
		t.Errorf("creation comment %+v", c)
	}
	workflowtest.WantRecords(t, st.Approvals, workflowtest.Rec("r1", process.DecisionApprove, true, ""), workflowtest.Rec("r2", process.DecisionApprove, true, ""))
	// The request's approval is announced before the creation it led to.
	createID := createwiki.CreateWikiID(workflowtest.NewWiki)
	firstCreate := slices.IndexFunc(f.Events, func(ev events.ProcessChange) bool { return ev.Process.ID == createID })
	approved := slices.IndexFunc(f.Events, func(ev events.ProcessChange) bool {
		return ev.Process.ID != createID && ev.ChangeKind == events.KindState && ev.Process.State == string(process.StateApproved)
	})
	if firstCreate < 0 || approved < 0 || approved > firstCreate {
		t.Errorf("the request's approval is event %d, the creation's first event %d: want the approval first", approved, firstCreate)
	}
}

func TestRequestWikiCreationFailureIsReported(t *testing.T) {
	f := requestFake()
	f.Fail(createwiki.NameValidateWiki, workflowtest.Permanent("newwiki already exists", activities.ErrTypeInvalidInput))
	env := newEnv(t, f)
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "a1", process.DecisionApprove, "r1", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "a2", process.DecisionApprove, "r2", "") }, 2*time.Hour)
	runRequest(env)
	st := workflowtest.EndStatus(t, env)
	if st.State != process.StateFailed || st.Result[requestwiki.ResultCreateState] != string(process.StateRefused) {
		t.Fatalf("state %s result %v, want failed, the creation refused", st.State, st.Result)
	}
	if c := findUpdate(t, f, "", "create-wiki"); !strings.Contains(c.Comment, "newwiki already exists") {
		t.Errorf("creation comment %+v", c)
	}
	if f.Called(createwiki.NameCreateDatabase) != 0 {
		t.Error("created a database after the validation failed")
	}
}

func TestRequestWikiTwoDeclines(t *testing.T) {
	f := requestFake()
	env := newEnv(t, f)
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "d1", process.DecisionDecline, "r1", "no") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		workflowtest.WantWaiting(t, env, "after one decline of two")
		env.SignalWorkflow(process.SignalDecline, process.DecisionSignal{User: "r2"})
	}, 2*time.Hour)
	runRequest(env)
	st := workflowtest.EndStatus(t, env)
	if st.State != process.StateDeclined || st.Result[requestwiki.ResultRequestStatus] != farmdb.RequestDeclined {
		t.Fatalf("state %s result %v, want declined", st.State, st.Result)
	}
	wantStatuses(t, f, farmdb.RequestDeclined)
	wantNotCreated(t, f)
}

func TestRequestWikiHold(t *testing.T) {
	f := requestFake()
	env := newEnv(t, f)
	var hold, byRequester *workflowtest.Upd
	env.RegisterDelayedCallback(func() { hold = reviewUpd(env, "h1", requestwiki.ReviewHold, "r1", "checking the name") }, time.Hour)
	env.RegisterDelayedCallback(func() { byRequester = reviewUpd(env, "h2", requestwiki.ReviewHold, "req", "") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result[requestwiki.ResultRequestStatus] != farmdb.RequestOnHold {
			t.Errorf("state %s request status %q, want waiting and on hold", st.State, st.Result[requestwiki.ResultRequestStatus])
		}
		workflowtest.Decide(env, "c1", process.DecisionCancel, "req", "")
	}, 30*24*time.Hour) // on hold is not abandoned by the details timer
	runRequest(env)
	st := workflowtest.EndStatus(t, env)

	workflowtest.WantAccepted(t, "hold", hold)
	workflowtest.WantRefused(t, "hold by the requester", byRequester, workflowtest.DeniedReason("req", workflowtest.Central, []process.Right{process.RightCreateWiki}))
	if u := findUpdate(t, f, farmdb.RequestOnHold, ""); u.User != "r1" || u.Comment != "checking the name" || u.ID != 42 {
		t.Errorf("hold update %+v", u)
	}
	wantStatuses(t, f, farmdb.RequestOnHold, farmdb.RequestAbandoned)
	if st.State != process.StateCancelled {
		t.Errorf("state %s, want cancelled", st.State)
	}
	if len(st.Actions) != 2 || !st.Actions[0].Accepted || st.Actions[0].Action != requestwiki.ReviewHold || st.Actions[1].Accepted {
		t.Errorf("actions %+v", st.Actions)
	}
}

func TestRequestWikiMoreDetailsNeedsAComment(t *testing.T) {
	f := requestFake()
	env := newEnv(t, f)
	var u *workflowtest.Upd
	env.RegisterDelayedCallback(func() { u = reviewUpd(env, "m1", requestwiki.ReviewMoreDetails, "r1", "  ") }, time.Hour)
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "c1", process.DecisionCancel, "req", "") }, 2*time.Hour)
	runRequest(env)
	st := workflowtest.EndStatus(t, env)
	workflowtest.WantRefused(t, "more-details without comment", u, "asking for more details needs a comment saying which")
	wantStatuses(t, f, farmdb.RequestAbandoned)
	if len(st.Actions) != 1 || st.Actions[0].Accepted || st.Actions[0].Action != requestwiki.ReviewMoreDetails {
		t.Errorf("actions %+v", st.Actions)
	}
}

func TestRequestWikiMoreDetailsTimesOut(t *testing.T) {
	f := requestFake()
	env := newEnv(t, f)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(requestwiki.ReviewMoreDetails, requestwiki.ReviewRequest{User: "r1", Comment: "what is the wiki for?"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := workflowtest.QueryStatus(t, env); st.State != process.StateWaitingApproval || st.Result[requestwiki.ResultRequestStatus] != farmdb.RequestMoreDetails {
			t.Errorf("state %s request status %q a day before the timeout", st.State, st.Result[requestwiki.ResultRequestStatus])
		}
	}, time.Hour+workflowtest.RequestDetails-24*time.Hour)
	runRequest(env)
	st := workflowtest.EndStatus(t, env)
	if st.State != process.StateExpired || st.Result[requestwiki.ResultRequestStatus] != farmdb.RequestAbandoned {
		t.Fatalf("state %s result %v, want expired and abandoned", st.State, st.Result)
	}
	if d := workflowtest.Elapsed(st, st.Ended); d != time.Hour+workflowtest.RequestDetails {
		t.Errorf("abandoned after %v, want the timeout after the question", d)
	}
	wantStatuses(t, f, farmdb.RequestMoreDetails, farmdb.RequestAbandoned)
	if u := findUpdate(t, f, farmdb.RequestAbandoned, ""); u.Comment != "Abandoned (expired)" {
		t.Errorf("abandon update %+v", u)
	}
	if u := findUpdate(t, f, farmdb.RequestMoreDetails, ""); u.User != "r1" || u.Comment != "what is the wiki for?" {
		t.Errorf("more-details update %+v", u)
	}
	wantNotCreated(t, f)
}

func TestRequestWikiEditAfterMoreDetailsResumesReview(t *testing.T) {
	f := requestFake()
	env := newEnv(t, f)
	var stranger, edit *workflowtest.Upd
	env.RegisterDelayedCallback(func() { reviewUpd(env, "m1", requestwiki.ReviewMoreDetails, "r1", "which language?") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		stranger = workflowtest.Update(env, requestwiki.UpdateReview, "e1", requestwiki.ReviewRequest{Action: requestwiki.ReviewEdit, User: "r2", Sitename: "Hijacked"})
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		edit = workflowtest.Update(env, requestwiki.UpdateReview, "e2", requestwiki.ReviewRequest{Action: requestwiki.ReviewEdit, User: "req",
			Sitename: "Newt Wiki", Language: "de", Comment: "German, sorry"})
	}, 3*24*time.Hour)
	env.RegisterDelayedCallback(func() {
		st := workflowtest.QueryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result[requestwiki.ResultRequestStatus] != farmdb.RequestInReview {
			t.Errorf("state %s request status %q after the timeout would have run out, want still in review",
				st.State, st.Result[requestwiki.ResultRequestStatus])
		}
		workflowtest.Decide(env, "a1", process.DecisionApprove, "r1", "")
		workflowtest.Decide(env, "a2", process.DecisionApprove, "r2", "")
	}, time.Hour+workflowtest.RequestDetails+24*time.Hour)
	runRequest(env)
	st := workflowtest.EndStatus(t, env)

	workflowtest.WantRefused(t, "edit by another user", stranger, "only the requester may edit the request")
	workflowtest.WantAccepted(t, "the requester's edit", edit)
	if e := f.Edits; len(e) != 1 || e[0].ID != 42 || e[0].Sitename != "Newt Wiki" || e[0].Language != "de" || e[0].Comment != "German, sorry" {
		t.Errorf("EditWikiRequest inputs %+v, want only the requester's", e)
	}
	wantStatuses(t, f, farmdb.RequestMoreDetails, farmdb.RequestInReview, farmdb.RequestApproved)
	if u := findUpdate(t, f, farmdb.RequestInReview, ""); u.User != "req" || !strings.Contains(u.Comment, "German, sorry") {
		t.Errorf("back-in-review update %+v", u)
	}
	if st.State != process.StateCompleted {
		t.Fatalf("state %s, want completed", st.State)
	}
	// The creation uses the edited request.
	if v := f.Steps[createwiki.NameValidateWiki]; len(v) != 1 || v[0].Wiki.Sitename != "Newt Wiki" || v[0].Wiki.Language != "de" || v[0].Wiki.Category != "uncategorised" {
		t.Errorf("ValidateWiki input %+v", v)
	}
}

func TestRequestWikiCancelByRequesterAbandons(t *testing.T) {
	f := requestFake()
	env := newEnv(t, f)
	var stranger *workflowtest.Upd
	env.RegisterDelayedCallback(func() { stranger = workflowtest.Decide(env, "c0", process.DecisionCancel, "r1", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(process.SignalCancel, process.DecisionSignal{User: "req", Comment: "no longer needed"})
	}, 2*time.Hour)
	runRequest(env)
	st := workflowtest.EndStatus(t, env)
	workflowtest.WantRefused(t, "cancel by a reviewer", stranger, "only the requester")
	if st.State != process.StateCancelled || st.Result[requestwiki.ResultRequestStatus] != farmdb.RequestAbandoned || workflowtest.Elapsed(st, st.Ended) != 2*time.Hour {
		t.Fatalf("state %s result %v after %v, want cancelled and abandoned at 2h", st.State, st.Result, workflowtest.Elapsed(st, st.Ended))
	}
	wantStatuses(t, f, farmdb.RequestAbandoned)
	if u := findUpdate(t, f, farmdb.RequestAbandoned, ""); u.Comment != "Abandoned (cancelled)" {
		t.Errorf("abandon update %+v", u)
	}
	wantNotCreated(t, f)
}

func TestRequestWikiReviewValidatorAndLateReviews(t *testing.T) {
	f := requestFake()
	// r1's rights check takes a minute: the requester's cancel, sent with
	// the hold, closes the request while the hold is still being checked.
	env := newEnv(t, f, workflowtest.SlowRights("r1", time.Minute))
	var unknown, noUser *workflowtest.Upd
	env.RegisterDelayedCallback(func() {
		unknown = reviewUpd(env, "v1", "approve", "r1", "")
		noUser = reviewUpd(env, "v2", requestwiki.ReviewHold, "", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(process.SignalCancel, process.DecisionSignal{User: "req"})
		env.SignalWorkflow(requestwiki.ReviewHold, requestwiki.ReviewRequest{User: "r1", Comment: "too late"})
	}, 2*time.Hour)
	runRequest(env)
	st := workflowtest.EndStatus(t, env)
	if unknown.Rejected == nil || !strings.Contains(unknown.Rejected.Error(), `unknown review action "approve"`) {
		t.Errorf("unknown action: rejected %v", unknown.Rejected)
	}
	if noUser.Rejected == nil || !strings.Contains(noUser.Rejected.Error(), "a review needs a user") {
		t.Errorf("no user: rejected %v", noUser.Rejected)
	}
	if st.State != process.StateCancelled {
		t.Fatalf("state %s", st.State)
	}
	// The hold sent with the cancel is recorded as refused, not lost.
	if len(st.Actions) != 1 || st.Actions[0].User != "r1" || st.Actions[0].Accepted || st.Actions[0].Action != requestwiki.ReviewHold {
		t.Errorf("actions %+v, want only the late hold, refused", st.Actions)
	}
	wantStatuses(t, f, farmdb.RequestAbandoned)
}

// A hold whose rights check is still running when the request gets its
// second approval must be refused: cw_requests must end "approved".
//
// Bug: review() checks r.gate.outcome only before the CheckRights activity
// of hold/more-details (and before EditWikiRequest for edits); when the
// gate closes meanwhile, setStatus(onhold) runs after setStatus(approved),
// so the created wiki's request shows "onhold" and the hold is recorded
// accepted.
func TestRequestWikiHoldInFlightAtApprovalIsRefused(t *testing.T) {
	f := requestFake()
	env := newEnv(t, f, workflowtest.SlowRights("r3", time.Hour))
	var hold *workflowtest.Upd
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "a1", process.DecisionApprove, "r1", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { hold = reviewUpd(env, "h1", requestwiki.ReviewHold, "r3", "wait") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "a2", process.DecisionApprove, "r2", "") }, 2*time.Hour+time.Minute)
	runRequest(env)
	st := workflowtest.EndStatus(t, env)

	if st.State != process.StateCompleted {
		t.Fatalf("state %s, want completed", st.State)
	}
	workflowtest.WantRefused(t, "hold checked past the approval", hold, "closed")
	wantStatuses(t, f, farmdb.RequestApproved)
	if st.Result[requestwiki.ResultRequestStatus] != farmdb.RequestApproved {
		t.Errorf("request_status %q, want approved", st.Result[requestwiki.ResultRequestStatus])
	}
}

// Other writers decide too: CreateWiki's own form declined the request
// while WikiFlow's reviewers approved it; the process follows the decline
// instead of overwriting it, and creates nothing.
func TestRequestWikiFollowsCreateWikisOwnForm(t *testing.T) {
	f := requestFake()
	env := newEnv(t, f)
	env.RegisterDelayedCallback(func() { workflowtest.Decide(env, "a1", process.DecisionApprove, "r1", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		f.Locked(func() { f.External = "declined" })
		workflowtest.Decide(env, "a2", process.DecisionApprove, "r2", "")
	}, 2*time.Hour)
	runRequest(env)
	st := workflowtest.EndStatus(t, env)
	if st.State != process.StateDeclined || st.Result[requestwiki.ResultChangedOutside] != "declined" {
		t.Fatalf("state %s result %v, want declined as CreateWiki's form said", st.State, st.Result)
	}
	if f.Called(createwiki.NameValidateWiki) != 0 {
		t.Error("the wiki's creation started although the request was declined elsewhere")
	}
	for _, u := range f.Updates {
		if u.Status == "approved" {
			t.Errorf("cw_status was overwritten with approved: %+v", u)
		}
	}
}
