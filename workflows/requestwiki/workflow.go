// Package requestwiki is a wiki request as CreateWiki keeps it (cw_requests,
// cw_comments, cw_history): the review by wiki creators, then a creation.
package requestwiki

import (
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

// KindRequestWiki is the process kind of a wiki request's review.
const KindRequestWiki = "request-wiki"

// RequestWikiID is the workflow ID of the review of a request for a wiki:
// one open request per database name.
func RequestWikiID(db string) string { return KindRequestWiki + ":" + db }

// Review actions beside the gate's approve, decline and cancel.
const (
	ReviewHold        = "hold"
	ReviewMoreDetails = "more-details"
	ReviewEdit        = "edit-request"
	UpdateReview      = "review"
)

// ReviewRequest is the payload of hold, more-details and edit-request
// (signals, or the review update with Action set).
type ReviewRequest struct {
	Action   string `json:"action,omitempty"`
	User     string `json:"user"`
	Comment  string `json:"comment,omitempty"`
	Sitename string `json:"sitename,omitempty"`
	Language string `json:"language,omitempty"`
	Category string `json:"category,omitempty"`
}

// RequestWikiOptions are the farm's choices for wiki requests.
type RequestWikiOptions struct {
	CentralWiki string
	// MoreDetailsTimeout abandons a request left waiting for its requester.
	MoreDetailsTimeout time.Duration
	Reviewers          int // distinct wiki creators to approve, and to decline
}

// RequestWikiInput is a request and what the wiki's creation runs with.
type RequestWikiInput struct {
	Wiki      process.WikiSpec
	Requester string
	Email     string
	Reason    string
	Options   RequestWikiOptions
	// Create is the definition of the creation started on approval.
	Create process.Definition
}

// Keys of a wiki request's Status.Result.
const (
	ResultRequestID      = "request_id"      // the cw_requests id
	ResultRequestStatus  = "request_status"  // its cw_status as this process left it
	ResultCreateProcess  = "create_process"  // the creation it started, once approved
	ResultCreateState    = "create_state"    // how that creation ended
	ResultChangedOutside = "changed_outside" // the status another writer set
	ResultUpdateError    = "update_error"    // why cw_requests could not be updated
)

// RequestWikiResult: Status.Result has the cw_requests id and the outcome
// of the creation.
type RequestWikiResult struct {
	Status process.Status
}

type review struct {
	workflows.Frame
	in        RequestWikiInput
	follow    bool           // on the follow-writers version: cw_status written only if unchanged
	external  string         // the status another writer set, once followed
	requester process.Person // who MediaWiki says the requester is
	id        int64
	status    string    // cw_requests status
	detailAt  time.Time // when more details were asked
	// reviews takes the review update and signals.
	reviews *workflows.Inbox[ReviewRequest, ReviewRequest, process.ActionRecord]
}

// RequestWiki files the request in cw_requests and reviews it: two wiki
// creators approve (then the wiki is created and the outcome commented) or
// two decline; one may put it on hold or ask for more details (the
// requester's edit brings it back); the requester may withdraw; a request
// left waiting for details is abandoned by a timer. cw_requests always
// shows the state, so CreateWiki's own pages show the truth.
func RequestWiki(ctx workflow.Context, in RequestWikiInput) (RequestWikiResult, error) {
	r := &review{in: in}
	r.St = workflows.NewStatus(ctx, KindRequestWiki, in.Wiki.DB, in.Requester, nil)
	r.KnownPrivate = &in.Wiki.Private
	r.reviews = r.reviewInbox()
	err := r.Run(ctx, r.run, r.reviews)
	return RequestWikiResult{Status: *r.St}, err
}

func (r *review) run(ctx workflow.Context) error {
	var f *Activities
	in := r.in
	r.ByPerson = workflows.KnowsPeople(ctx)
	r.follow = workflow.GetVersion(ctx, workflows.FollowChange, workflow.DefaultVersion, 1) >= 1
	r.requester = process.Person{Name: in.Requester}
	var filed FileRequestResult
	err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "file the request"), f.FileWikiRequest, FileRequestInput{
		DB: in.Wiki.DB, Sitename: in.Wiki.Sitename, Language: in.Wiki.Language, Private: in.Wiki.Private,
		Category: in.Wiki.Category, Reason: in.Reason, Requester: in.Requester, Central: in.Options.CentralWiki,
	}).Get(ctx, &filed)
	if err != nil {
		if why, ok := workflows.IsRefusal(err); r.ByPerson && ok {
			return workflows.Refuse(r.St, "%s", why)
		}
		var app *temporal.ApplicationError
		if errors.As(err, &app) && app.NonRetryable() {
			r.St.State = process.StateFailed
			r.St.Result[process.ResultError] = app.Message()
		}
		return err
	}
	if r.ByPerson {
		auth := process.AuthorizeResult{User: filed.Requester, UserID: filed.UserID, Reason: in.Requester + " has no account on the farm"}
		if err := workflows.Identify(ctx, r.St, auth, &r.requester); err != nil {
			return err
		}
	}
	r.id, r.status = filed.ID, farmdb.RequestInReview
	r.St.Result[ResultRequestID] = fmt.Sprint(filed.ID)
	r.St.Result[ResultRequestStatus] = r.status

	reviewers := max(in.Options.Reviewers, 1)
	r.Gate, err = workflows.NewGate(ctx, process.ApprovalPolicy{
		Quorum: reviewers, Right: process.RightCreateWiki, RightWiki: in.Options.CentralWiki,
		DeclinesToEnd: reviewers, Authorize: activities.NameCheckRights,
	}, in.Wiki.DB, r.requester, r.St)
	if err != nil {
		return err
	}
	r.Gate.OnDecision = func(ctx workflow.Context, rec process.ApprovalRecord) {
		if rec.Accepted {
			r.comment(ctx, rec.User, string(rec.Decision), fmt.Sprintf("%s: %s", rec.Decision, rec.Comment))
		}
	}
	if err := r.reviews.Listen(ctx); err != nil {
		return err
	}
	r.Accept()
	outcome, err := r.waitDecision(ctx)
	if err != nil {
		return err
	}
	if r.external != "" {
		return r.endExternal()
	}
	switch outcome {
	case process.StateApproved:
		if !r.setStatus(ctx, farmdb.RequestApproved, "", "Approved by "+strings.Join(r.Gate.ApproverNames(), " and ")) {
			return r.endExternal()
		}
		return r.create(ctx)
	case process.StateDeclined:
		if !r.setStatus(ctx, farmdb.RequestDeclined, "", "Declined") {
			return r.endExternal()
		}
	default: // cancelled by the requester, or expired waiting for details
		if !r.setStatus(ctx, farmdb.RequestAbandoned, "", "Abandoned ("+string(outcome)+")") {
			return r.endExternal()
		}
	}
	r.St.State = outcome
	return nil
}

// followOther takes a status another writer (CreateWiki's own review form)
// put in cw_requests instead of overwriting it: the change is recorded, a
// final one (approved, declined, abandoned) closes the review, and a
// request put back in review, on hold or asked for details is then
// CreateWiki's to decide.
func (r *review) followOther(ctx workflow.Context, found string) {
	r.external, r.status = found, found
	r.St.Result[ResultRequestStatus] = found
	r.St.Result[ResultChangedOutside] = found
	r.St.Actions = append(r.St.Actions, process.ActionRecord{Action: "cw_status", Accepted: true, Time: workflow.Now(ctx),
		Reason: fmt.Sprintf("cw_status was changed to %s outside WikiFlow (CreateWiki's own form): the process follows it", found)})
	r.Gate.Close(process.StateCancelled)
}

// endExternal ends the review the way another writer decided it; WikiFlow
// creates nothing (an approval by CreateWiki's form is CreateWiki's to carry out).
func (r *review) endExternal() error {
	switch r.external {
	case farmdb.RequestDeclined:
		r.St.State = process.StateDeclined
	case farmdb.RequestApproved:
		r.St.State = process.StateCompleted
	default:
		r.St.State = process.StateCancelled
	}
	return nil
}

// waitDecision waits for the gate, abandoning the request when it has
// waited in moredetails for longer than the timeout.
func (r *review) waitDecision(ctx workflow.Context) (process.State, error) {
	r.St.State = process.StateWaitingApproval
	workflows.UpsertState(ctx, r.St.State)
	workflow.SetCurrentDetails(ctx, r.Gate.Details())
	timeout := r.in.Options.MoreDetailsTimeout
	waitingForDetails := func() bool { return r.status == farmdb.RequestMoreDetails && timeout > 0 }
	for r.Gate.Outcome() == "" {
		if !waitingForDetails() {
			if err := workflow.Await(ctx, func() bool { return r.Gate.Outcome() != "" || waitingForDetails() }); err != nil {
				return "", err
			}
			continue
		}
		asked := r.detailAt
		left := asked.Add(timeout).Sub(workflow.Now(ctx))
		ok := false
		if left > 0 {
			var err error
			ok, err = workflow.AwaitWithTimeout(ctx, left,
				func() bool {
					return r.Gate.Outcome() != "" || r.status != farmdb.RequestMoreDetails || r.detailAt != asked
				})
			if err != nil {
				return "", err
			}
		}
		if !ok {
			r.Gate.Close(process.StateExpired)
		}
	}
	return r.Gate.Outcome(), nil
}

// create starts the wiki's creation as a child workflow with the usual ID
// and comments its outcome on the request.
func (r *review) create(ctx workflow.Context) error {
	r.St.State = process.StateApproved
	workflows.UpsertState(ctx, r.St.State)
	workflow.SetCurrentDetails(ctx, "**Approved**: creating the wiki.")
	in := r.in
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            createwiki.CreateWikiID(in.Wiki.DB),
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		StaticSummary:         fmt.Sprintf("Create wiki %s for request %d", in.Wiki.DB, r.id),
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.ProcessKindKey.ValueSet(createwiki.KindCreateWiki), workflows.WikiDBKey.ValueSet(in.Wiki.DB),
			workflows.RequesterKey.ValueSet(r.requester.Name), workflows.ProcessStateKey.ValueSet(string(process.StateRunning))),
		// The creation retries its validation like this review retries its activities.
		Memo: workflows.RetryMemo(ctx),
	})
	var res createwiki.CreateWikiResult
	r.BeforeChild(ctx)
	err := workflow.ExecuteChildWorkflow(cctx, createwiki.CreateWiki, createwiki.CreateWikiInput{
		Wiki: in.Wiki, Requester: r.requester.Name, Email: in.Email, Definition: in.Create,
	}).Get(ctx, &res)
	r.St.Result[ResultCreateProcess] = createwiki.CreateWikiID(in.Wiki.DB)
	if err != nil {
		msg := err.Error()
		var app *temporal.ApplicationError
		if errors.As(err, &app) {
			msg = app.Message()
		}
		r.comment(ctx, "", "create-wiki", "The wiki's creation failed: "+msg)
		r.St.Result[ResultCreateState] = string(process.StateFailed)
		r.St.State = process.StateFailed
		return nil
	}
	r.St.Result[ResultCreateState] = string(res.Process.Status.State)
	if res.Process.Status.State == process.StateRefused {
		// On the identity version a refused creation ends without an error.
		r.comment(ctx, "", "create-wiki", "The wiki's creation failed: "+res.Process.Status.Result[process.ResultError])
		r.St.State = process.StateFailed
		return nil
	}
	r.comment(ctx, "", "create-wiki", fmt.Sprintf("The wiki's creation ended %s.", res.Process.Status.State))
	r.St.State = process.StateCompleted
	return nil
}

// reviewInbox takes hold, more-details and edit-request as signals and as
// the review update. It exists from the start, so that reviews sent to a
// request that never opened are drained and recorded too.
func (r *review) reviewInbox() *workflows.Inbox[ReviewRequest, ReviewRequest, process.ActionRecord] {
	return &workflows.Inbox[ReviewRequest, ReviewRequest, process.ActionRecord]{
		Update: UpdateReview, Signals: []string{ReviewHold, ReviewMoreDetails, ReviewEdit},
		FromSignal: func(signal string, req ReviewRequest) ReviewRequest {
			req.Action = signal
			return req
		},
		Validate: func(_ workflow.Context, req ReviewRequest) error {
			switch {
			case req.User == "":
				return fmt.Errorf("a review needs a user")
			case req.Action != ReviewHold && req.Action != ReviewMoreDetails && req.Action != ReviewEdit:
				return fmt.Errorf("unknown review action %q", req.Action)
			}
			return nil
		},
		Decide: func(ctx workflow.Context, req ReviewRequest) (process.ActionRecord, error) {
			rec := r.review(ctx, req)
			if !rec.Accepted {
				return rec, temporal.NewApplicationError(rec.Reason, process.ErrTypeRefused)
			}
			return rec, nil
		},
		Late: func(ctx workflow.Context, req ReviewRequest) {
			r.St.Actions = append(r.St.Actions, process.ActionRecord{User: req.User, Action: req.Action,
				Reason: "the request is closed", Time: workflow.Now(ctx)})
		},
	}
}

func (r *review) review(ctx workflow.Context, req ReviewRequest) process.ActionRecord {
	var f *Activities
	rec := process.ActionRecord{User: req.User, Action: req.Action}
	defer func() {
		rec.Time = workflow.Now(ctx)
		r.St.Actions = append(r.St.Actions, rec)
	}()
	if r.Gate.Outcome() != "" {
		rec.Reason = r.Gate.ClosedReason()
		return rec
	}
	// On the identity version the reviewer is named by MediaWiki first: the
	// rights check says who they are and whether they are a wiki creator.
	var who process.AuthorizeResult
	if r.ByPerson {
		var err error
		if who, err = r.Gate.Check(ctx, req.User, r.in.Options.CentralWiki, process.RightCreateWiki); err != nil {
			rec.Reason = err.Error()
			return rec
		}
		if who.NoAccount || who.UserID <= 0 {
			rec.Reason = who.Reason
			return rec
		}
		rec.User = who.User
		if r.Gate.Outcome() != "" { // decided while MediaWiki was asked
			rec.Reason = r.Gate.ClosedReason()
			return rec
		}
	}
	switch req.Action {
	case ReviewEdit:
		if (r.ByPerson && who.UserID != r.requester.ID) || (!r.ByPerson && req.User != r.in.Requester) {
			rec.Reason = "only the requester may edit the request"
			return rec
		}
		var out process.StepResult
		err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "edit the request"), f.EditWikiRequest, EditRequestInput{
			ID: r.id, Sitename: req.Sitename, Language: req.Language, Category: req.Category, Comment: req.Comment,
		}).Get(ctx, &out)
		if err != nil {
			rec.Reason = err.Error()
			return rec
		}
		if r.Gate.Outcome() != "" { // decided while the edit was written
			rec.Reason = r.Gate.ClosedReason()
			return rec
		}
		if req.Sitename != "" {
			r.in.Wiki.Sitename = req.Sitename
		}
		if req.Language != "" {
			r.in.Wiki.Language = req.Language
		}
		if req.Category != "" {
			r.in.Wiki.Category = req.Category
		}
		rec.Accepted = true
		if r.status != farmdb.RequestInReview && !r.setStatus(ctx, farmdb.RequestInReview, rec.User, "Edited by the requester: "+req.Comment) {
			rec.Accepted, rec.Reason = false, "the request was changed outside WikiFlow to "+r.external
		}
	case ReviewHold, ReviewMoreDetails:
		if req.Action == ReviewMoreDetails && strings.TrimSpace(req.Comment) == "" {
			rec.Reason = "asking for more details needs a comment saying which"
			return rec
		}
		ok, why, err := who.Allowed, who.Reason, error(nil)
		if !r.ByPerson {
			ok, why, err = r.Gate.Holds(ctx, req.User, r.in.Options.CentralWiki, process.RightCreateWiki)
		}
		if err != nil {
			ok, why = false, err.Error()
		}
		if ok && r.Gate.Outcome() != "" { // decided while the rights were checked
			ok, why = false, r.Gate.ClosedReason()
		}
		if !ok {
			rec.Reason = why
			return rec
		}
		rec.Accepted = true
		status := farmdb.RequestOnHold
		if req.Action == ReviewMoreDetails {
			status = farmdb.RequestMoreDetails
			r.detailAt = workflow.Now(ctx)
		}
		if !r.setStatus(ctx, status, rec.User, req.Comment) {
			rec.Accepted, rec.Reason = false, "the request was changed outside WikiFlow to "+r.external
		}
	}
	return rec
}

// setStatus writes the request's status (and a comment) to cw_requests. On
// the follow-writers version the write only happens while cw_status is
// still what this process last wrote; otherwise the process follows the
// other writer (followOther) and setStatus answers false.
func (r *review) setStatus(ctx workflow.Context, status, user, comment string) bool {
	in := UpdateRequestInput{ID: r.id, Status: status, Comment: comment, User: user, Action: status}
	if r.follow {
		in.Expect = r.status
	}
	if res := r.update(ctx, in); res.Changed {
		r.followOther(ctx, res.Status)
		return false
	}
	r.status = status
	r.St.Result[ResultRequestStatus] = status
	return true
}

func (r *review) comment(ctx workflow.Context, user, action, comment string) {
	r.update(ctx, UpdateRequestInput{ID: r.id, Comment: comment, User: user, Action: action})
}

func (r *review) update(ctx workflow.Context, in UpdateRequestInput) UpdateRequestResult {
	var f *Activities
	in.At = workflow.Now(ctx)
	in.Central = r.in.Options.CentralWiki
	var res UpdateRequestResult
	if err := workflow.ExecuteActivity(workflows.ActivityCtx(ctx, "update cw_requests"), f.UpdateRequest, in).Get(ctx, &res); err != nil {
		r.St.Result[ResultUpdateError] = err.Error()
	}
	return res
}
