package workflows

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

const (
	reqWiki    = "newwiki"
	reqDetails = 7 * 24 * time.Hour
)

// requestFake: r1, r2 and r3 hold createwiki on the central wiki; the
// requester holds nothing; FileWikiRequest answers id 42.
func requestFake() *fakeMW {
	f := newFakeMW()
	for _, u := range []string{"r1", "r2", "r3"} {
		f.grant(u, process.RightCreateWiki, gwCentral)
	}
	return f
}

func runRequest(env *testsuite.TestWorkflowEnvironment) {
	env.ExecuteWorkflow(RequestWiki, RequestWikiInput{
		Wiki:      process.WikiSpec{DB: reqWiki, Sitename: "New Wiki", Language: "en", Category: "uncategorised"},
		Requester: "req", Email: "req@example.org", Reason: "a wiki about newts",
		Options: RequestWikiOptions{CentralWiki: gwCentral, MoreDetailsTimeout: reqDetails, Reviewers: 2},
		Create:  CreateWikiDefinition(CreateWikiOptions{AttentionWindow: time.Hour, CentralWiki: gwCentral}),
	})
}

func reviewUpd(env *testsuite.TestWorkflowEnvironment, id, action, user, comment string) *upd {
	u := &upd{}
	env.UpdateWorkflow(UpdateReview, id, u.cb(), ReviewRequest{Action: action, User: user, Comment: comment})
	return u
}

func wantStatuses(t *testing.T, f *fakeMW, want ...string) {
	t.Helper()
	if got := f.statuses(); !slices.Equal(got, want) {
		t.Errorf("cw_requests statuses set %v, want %v", got, want)
	}
}

// findUpdate returns the first UpdateRequest call with that status (or, for
// "", that action), or fails.
func findUpdate(t *testing.T, f *fakeMW, status, action string) activities.UpdateRequestInput {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.updates {
		if (status != "" && u.Status == status) || (status == "" && u.Status == "" && u.Action == action) {
			return u
		}
	}
	t.Fatalf("no UpdateRequest with status %q action %q in %+v", status, action, f.updates)
	return activities.UpdateRequestInput{}
}

var createSteps = []string{
	activities.NameCreateDatabase, activities.NameCreateSchema, activities.NameRegisterWiki,
	activities.NameGrantRequesterRights, activities.NameCreateMainPage, activities.NameCreateStorage, activities.NameNotifyCreated,
}

func wantNotCreated(t *testing.T, f *fakeMW) {
	t.Helper()
	for _, a := range append([]string{activities.NameValidateWiki}, createSteps...) {
		if f.called(a) != 0 {
			t.Errorf("%s called: the wiki must not be created", a)
		}
	}
}

func TestRequestWikiTwoApprovalsCreateTheWiki(t *testing.T) {
	f := requestFake()
	env := newGateEnv(t, f)
	var first *upd
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result["request_id"] != "42" || st.Result["request_status"] != farmdb.RequestInReview {
			t.Errorf("state %s result %v, want waiting on request 42 in review", st.State, st.Result)
		}
		first = decide(env, "a1", process.DecisionApprove, "r1", "good idea")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		if f.called(activities.NameValidateWiki) != 0 {
			t.Error("creation started after one approval of two")
		}
		env.SignalWorkflow(process.SignalApprove, process.Decision{User: "r2", Comment: "+1"})
	}, 2*time.Hour)
	runRequest(env)
	st := endStatus(t, env)

	wantAccepted(t, "r1", first)
	if st.State != process.StateCompleted || st.Result["create_state"] != process.StateCompleted {
		t.Fatalf("state %s result %v, want completed with the creation completed", st.State, st.Result)
	}
	if st.Result["create_process"] != CreateWikiID(reqWiki) || st.Result["request_status"] != farmdb.RequestApproved {
		t.Errorf("result %v", st.Result)
	}
	if fi := f.files; len(fi) != 1 || fi[0].DB != reqWiki || fi[0].Requester != "req" || fi[0].Central != gwCentral || fi[0].Sitename != "New Wiki" {
		t.Errorf("FileWikiRequest inputs %+v", fi)
	}
	wantStatuses(t, f, farmdb.RequestApproved)
	if u := findUpdate(t, f, farmdb.RequestApproved, ""); u.ID != 42 || u.Comment != "Approved by r1 and r2" || u.Central != gwCentral {
		t.Errorf("approval update %+v", u)
	}
	// Each accepted decision is commented; the approval status is set
	// before the creation starts.
	if c := findUpdate(t, f, "", process.DecisionApprove); c.User != "r1" || c.Comment != "approve: good idea" {
		t.Errorf("first decision comment %+v", c)
	}
	if f.firstCall(activities.NameValidateWiki) < 0 || f.firstCall(activities.NameValidateWiki) < f.firstCall(activities.NameUpdateRequest) {
		t.Errorf("calls %v", f.calls)
	}
	for _, a := range append([]string{activities.NameValidateWiki}, createSteps...) {
		if f.called(a) != 1 {
			t.Errorf("%s called %d times, want once", a, f.called(a))
		}
	}
	if in := f.steps[activities.NameCreateDatabase]; len(in) != 1 || in[0].Wiki.DB != reqWiki || in[0].Args["email"] != "req@example.org" {
		t.Errorf("CreateDatabase input %+v", in)
	}
	if c := findUpdate(t, f, "", "create-wiki"); c.Comment != "The wiki's creation ended completed." {
		t.Errorf("creation comment %+v", c)
	}
	wantRecords(t, st.Approvals, rec("r1", process.DecisionApprove, true, ""), rec("r2", process.DecisionApprove, true, ""))
}

func TestRequestWikiCreationFailureIsReported(t *testing.T) {
	f := requestFake()
	f.fail(activities.NameValidateWiki, temporal.NewNonRetryableApplicationError("newwiki already exists", activities.ErrInvalidInput, nil))
	env := newGateEnv(t, f)
	env.RegisterDelayedCallback(func() { decide(env, "a1", process.DecisionApprove, "r1", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { decide(env, "a2", process.DecisionApprove, "r2", "") }, 2*time.Hour)
	runRequest(env)
	st := endStatus(t, env)
	if st.State != process.StateFailed || st.Result["create_state"] != process.StateRefused {
		t.Fatalf("state %s result %v, want failed, the creation refused", st.State, st.Result)
	}
	if c := findUpdate(t, f, "", "create-wiki"); !strings.Contains(c.Comment, "newwiki already exists") {
		t.Errorf("creation comment %+v", c)
	}
	if f.called(activities.NameCreateDatabase) != 0 {
		t.Error("created a database after the validation failed")
	}
}

func TestRequestWikiTwoDeclines(t *testing.T) {
	f := requestFake()
	env := newGateEnv(t, f)
	env.RegisterDelayedCallback(func() { decide(env, "d1", process.DecisionDecline, "r1", "no") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := queryStatus(t, env); st.State != process.StateWaitingApproval {
			t.Errorf("state %s after one decline of two", st.State)
		}
		env.SignalWorkflow(process.SignalDecline, process.Decision{User: "r2"})
	}, 2*time.Hour)
	runRequest(env)
	st := endStatus(t, env)
	if st.State != process.StateDeclined || st.Result["request_status"] != farmdb.RequestDeclined {
		t.Fatalf("state %s result %v, want declined", st.State, st.Result)
	}
	wantStatuses(t, f, farmdb.RequestDeclined)
	wantNotCreated(t, f)
}

func TestRequestWikiHold(t *testing.T) {
	f := requestFake()
	env := newGateEnv(t, f)
	var hold, byRequester *upd
	env.RegisterDelayedCallback(func() { hold = reviewUpd(env, "h1", ReviewHold, "r1", "checking the name") }, time.Hour)
	env.RegisterDelayedCallback(func() { byRequester = reviewUpd(env, "h2", ReviewHold, "req", "") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result["request_status"] != farmdb.RequestOnHold {
			t.Errorf("state %s request status %q, want waiting and on hold", st.State, st.Result["request_status"])
		}
		decide(env, "c1", process.DecisionCancel, "req", "")
	}, 30*24*time.Hour) // on hold is not abandoned by the details timer
	runRequest(env)
	st := endStatus(t, env)

	wantAccepted(t, "hold", hold)
	wantRefused(t, "hold by the requester", byRequester, deniedReason("req", gwCentral, []string{process.RightCreateWiki}))
	if u := findUpdate(t, f, farmdb.RequestOnHold, ""); u.User != "r1" || u.Comment != "checking the name" || u.ID != 42 {
		t.Errorf("hold update %+v", u)
	}
	wantStatuses(t, f, farmdb.RequestOnHold, farmdb.RequestAbandoned)
	if st.State != process.StateCancelled {
		t.Errorf("state %s, want cancelled", st.State)
	}
	if len(st.Actions) != 2 || !st.Actions[0].Accepted || st.Actions[0].Action != ReviewHold || st.Actions[1].Accepted {
		t.Errorf("actions %+v", st.Actions)
	}
}

func TestRequestWikiMoreDetailsNeedsAComment(t *testing.T) {
	f := requestFake()
	env := newGateEnv(t, f)
	var u *upd
	env.RegisterDelayedCallback(func() { u = reviewUpd(env, "m1", ReviewMoreDetails, "r1", "  ") }, time.Hour)
	env.RegisterDelayedCallback(func() { decide(env, "c1", process.DecisionCancel, "req", "") }, 2*time.Hour)
	runRequest(env)
	st := endStatus(t, env)
	wantRefused(t, "more-details without comment", u, "asking for more details needs a comment saying which")
	wantStatuses(t, f, farmdb.RequestAbandoned)
	if len(st.Actions) != 1 || st.Actions[0].Accepted || st.Actions[0].Action != ReviewMoreDetails {
		t.Errorf("actions %+v", st.Actions)
	}
}

func TestRequestWikiMoreDetailsTimesOut(t *testing.T) {
	f := requestFake()
	env := newGateEnv(t, f)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(ReviewMoreDetails, ReviewRequest{User: "r1", Comment: "what is the wiki for?"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		if st := queryStatus(t, env); st.State != process.StateWaitingApproval || st.Result["request_status"] != farmdb.RequestMoreDetails {
			t.Errorf("state %s request status %q a day before the timeout", st.State, st.Result["request_status"])
		}
	}, time.Hour+reqDetails-24*time.Hour)
	runRequest(env)
	st := endStatus(t, env)
	if st.State != process.StateExpired || st.Result["request_status"] != farmdb.RequestAbandoned {
		t.Fatalf("state %s result %v, want expired and abandoned", st.State, st.Result)
	}
	if d := elapsed(st, st.Ended); d != time.Hour+reqDetails {
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
	env := newGateEnv(t, f)
	var stranger, edit *upd
	env.RegisterDelayedCallback(func() { reviewUpd(env, "m1", ReviewMoreDetails, "r1", "which language?") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		stranger = &upd{}
		env.UpdateWorkflow(UpdateReview, "e1", stranger.cb(), ReviewRequest{Action: ReviewEdit, User: "r2", Sitename: "Hijacked"})
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		edit = &upd{}
		env.UpdateWorkflow(UpdateReview, "e2", edit.cb(), ReviewRequest{Action: ReviewEdit, User: "req",
			Sitename: "Newt Wiki", Language: "de", Comment: "German, sorry"})
	}, 3*24*time.Hour)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		if st.State != process.StateWaitingApproval || st.Result["request_status"] != farmdb.RequestInReview {
			t.Errorf("state %s request status %q after the timeout would have run out, want still in review",
				st.State, st.Result["request_status"])
		}
		decide(env, "a1", process.DecisionApprove, "r1", "")
		decide(env, "a2", process.DecisionApprove, "r2", "")
	}, time.Hour+reqDetails+24*time.Hour)
	runRequest(env)
	st := endStatus(t, env)

	wantRefused(t, "edit by another user", stranger, "only the requester may edit the request")
	wantAccepted(t, "the requester's edit", edit)
	if e := f.edits; len(e) != 1 || e[0].ID != 42 || e[0].Sitename != "Newt Wiki" || e[0].Language != "de" || e[0].Comment != "German, sorry" {
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
	if v := f.steps[activities.NameValidateWiki]; len(v) != 1 || v[0].Wiki.Sitename != "Newt Wiki" || v[0].Wiki.Language != "de" || v[0].Wiki.Category != "uncategorised" {
		t.Errorf("ValidateWiki input %+v", v)
	}
}

func TestRequestWikiCancelByRequesterAbandons(t *testing.T) {
	f := requestFake()
	env := newGateEnv(t, f)
	var stranger *upd
	env.RegisterDelayedCallback(func() { stranger = decide(env, "c0", process.DecisionCancel, "r1", "") }, time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(process.SignalCancel, process.Decision{User: "req", Comment: "no longer needed"})
	}, 2*time.Hour)
	runRequest(env)
	st := endStatus(t, env)
	wantRefused(t, "cancel by a reviewer", stranger, "only the requester")
	if st.State != process.StateCancelled || st.Result["request_status"] != farmdb.RequestAbandoned || elapsed(st, st.Ended) != 2*time.Hour {
		t.Fatalf("state %s result %v after %v, want cancelled and abandoned at 2h", st.State, st.Result, elapsed(st, st.Ended))
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
	env := newGateEnv(t, f, delay{activity: activities.NameCheckRights, user: "r1", d: time.Minute})
	var unknown, noUser *upd
	env.RegisterDelayedCallback(func() {
		unknown = reviewUpd(env, "v1", "approve", "r1", "")
		noUser = reviewUpd(env, "v2", ReviewHold, "", "")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(process.SignalCancel, process.Decision{User: "req"})
		env.SignalWorkflow(ReviewHold, ReviewRequest{User: "r1", Comment: "too late"})
	}, 2*time.Hour)
	runRequest(env)
	st := endStatus(t, env)
	if unknown.rejected == nil || !strings.Contains(unknown.rejected.Error(), `unknown review action "approve"`) {
		t.Errorf("unknown action: rejected %v", unknown.rejected)
	}
	if noUser.rejected == nil || !strings.Contains(noUser.rejected.Error(), "a review needs a user") {
		t.Errorf("no user: rejected %v", noUser.rejected)
	}
	if st.State != process.StateCancelled {
		t.Fatalf("state %s", st.State)
	}
	// The hold sent with the cancel is recorded as refused, not lost.
	if len(st.Actions) != 1 || st.Actions[0].User != "r1" || st.Actions[0].Accepted || st.Actions[0].Action != ReviewHold {
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
	env := newGateEnv(t, f, delay{activity: activities.NameCheckRights, user: "r3", d: time.Hour})
	var hold *upd
	env.RegisterDelayedCallback(func() { decide(env, "a1", process.DecisionApprove, "r1", "") }, time.Hour)
	env.RegisterDelayedCallback(func() { hold = reviewUpd(env, "h1", ReviewHold, "r3", "wait") }, 2*time.Hour)
	env.RegisterDelayedCallback(func() { decide(env, "a2", process.DecisionApprove, "r2", "") }, 2*time.Hour+time.Minute)
	runRequest(env)
	st := endStatus(t, env)

	if st.State != process.StateCompleted {
		t.Fatalf("state %s, want completed", st.State)
	}
	wantRefused(t, "hold checked past the approval", hold, "closed")
	wantStatuses(t, f, farmdb.RequestApproved)
	if st.Result["request_status"] != farmdb.RequestApproved {
		t.Errorf("request_status %q, want approved", st.Result["request_status"])
	}
}
