package requestwiki

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
)

// UpdateRequestInput is one reviewer's (or the requester's, or the farm's)
// action on a request.
type UpdateRequestInput struct {
	// Central is the central wiki, where farm accounts are looked up; its
	// database also holds the shared actor table.
	Central string `json:"central"`
	ID      int64  `json:"id"`
	// Status, when not empty, becomes the request's status (inreview,
	// approved, declined, onhold, moredetails, abandoned).
	Status string `json:"status,omitempty"`
	// Comment, when it holds words, is added to cw_comments under User's
	// user id (see UpdateRequest for what is written).
	Comment string `json:"comment,omitempty"`
	// User is who acts and must have a farm account; empty means the farm
	// itself (recorded as SystemUser).
	User string `json:"user,omitempty"`
	// Action names the action (a decision: approve, decline, cancel; or
	// create-wiki, ...); empty means Status, or "comment" when only a
	// comment is given. It is not written to cw_history, which holds only
	// CreateWiki's edit actions.
	Action string `json:"action,omitempty"`
	// At is when the action happened, from the workflow (workflow.Now): the
	// same input with the same At makes a retry add no second comment.
	At time.Time `json:"at"`
	// Expect, when set, is the status the caller last wrote: if another
	// writer (CreateWiki's own form) changed it since, nothing is written
	// and the result says Changed with the status found.
	Expect string `json:"expect,omitempty"`
}

// UpdateRequestResult tells what the request looks like after the update.
type UpdateRequestResult struct {
	// Status is the request's status now; PreviousStatus what it was when
	// this attempt read it (a retry sees its own earlier change).
	Status         string `json:"status"`
	PreviousStatus string `json:"previous_status"`
	Action         string `json:"action"`
	User           string `json:"user"` // the account recorded, as MediaWiki writes it
	UserID         int    `json:"user_id"`
	ActorID        int64  `json:"actor_id"`
	// Changed: the status was not Expect; nothing was written.
	Changed bool `json:"changed,omitempty"`
}

// UpdateRequest applies an action to a wiki request as CreateWiki records
// one: the status (when given) in cw_requests, and at most one comment in
// cw_comments with the person's words. A decision's comment ("approve:
// <words>" from the approval gate) keeps only the words, and a decision
// without words adds no comment (CreateWiki stores none empty); a request
// put back in review gets CreateWiki's own "back in the queue" comment by
// the farm's system user. Each comment takes the first second from At that
// the request's other comments leave free, and the farm's own status
// change stays after the decisions it carries out (see
// farmdb.CommentWrite.Follows), so CreateWiki's viewer, which keys comments
// by timestamp, shows them all in order. Nothing goes to cw_history (CreateWiki puts status changes in
// Special:Log). A user without a farm account is refused, never recorded
// as user 0. Idempotent: run again with the same input (same At), it adds
// no second row (its key is kept in wf_request_keys).
func (f *Activities) UpdateRequest(ctx context.Context, in UpdateRequestInput) (UpdateRequestResult, error) {
	if in.ID <= 0 {
		return UpdateRequestResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "invalid request update: no request id")
	}
	if in.At.IsZero() {
		return UpdateRequestResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "invalid request update: no time (At) given")
	}
	if in.Status != "" && !farmdb.ValidRequestStatus(in.Status) {
		return UpdateRequestResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "invalid request update: unknown status %q (want one of %s)",
			in.Status, strings.Join(farmdb.RequestStatuses, ", "))
	}
	action := in.Action
	switch {
	case action != "":
	case in.Status != "":
		action = in.Status
	case strings.TrimSpace(in.Comment) != "":
		action = RequestActionComment
	default:
		return UpdateRequestResult{}, activities.Permanent(activities.ErrTypeInvalidInput, "invalid request update: nothing to do (no status, comment or action)")
	}
	req, err := f.Central.GetRequest(ctx, in.ID)
	if err != nil {
		return UpdateRequestResult{}, classifyRequestErr(err)
	}
	var userID int
	var name string
	if in.User == "" {
		userID, name, err = f.SystemUserID(ctx, in.Central)
	} else {
		userID, name, err = f.LookupFarmUser(ctx, in.Central, in.User)
	}
	if err != nil {
		return UpdateRequestResult{}, err
	}
	actorID, err := f.FarmActorID(ctx, in.Central, name, userID)
	if err != nil {
		return UpdateRequestResult{}, err
	}
	res := UpdateRequestResult{Status: req.Status, PreviousStatus: req.Status, Action: action, User: name, UserID: userID, ActorID: actorID}
	if in.Status != "" {
		found, err := f.Central.SetRequestStatusIf(ctx, in.ID, in.Status, in.Expect)
		if errors.Is(err, farmdb.ErrStatusChanged) {
			res.Status, res.Changed = found, true
			return res, nil
		}
		if err != nil {
			return UpdateRequestResult{}, classifyRequestErr(err)
		}
		res.Status = in.Status
	}
	if err := f.logRequestUpdate(ctx, in, req.DBName, res); err != nil {
		return UpdateRequestResult{}, err
	}
	text, bySystem, follows := requestComment(in)
	if strings.TrimSpace(text) == "" {
		return res, nil
	}
	author := userID
	if bySystem && in.User != "" {
		if author, _, err = f.SystemUserID(ctx, in.Central); err != nil {
			return UpdateRequestResult{}, err
		}
	}
	_, err = f.Central.WriteRequestComment(ctx, farmdb.CommentWrite{
		Request: in.ID, Comment: text, UserID: author, At: in.At, Key: updateKey(in), Follows: follows,
	})
	if err != nil {
		return UpdateRequestResult{}, classifyRequestErr(err)
	}
	return res, nil
}

// requestComment is the comment CreateWiki would show for an update,
// whether the farm's system user writes it, and whether it carries out the
// decisions made until its time (the farm's own status change, which the
// workflow runs beside the decisive vote's comment).
func requestComment(in UpdateRequestInput) (text string, bySystem, follows bool) {
	switch {
	case in.Status == farmdb.RequestInReview:
		// Only the requester's edit puts a request back in review; the edit
		// wrote their comment, CreateWiki adds this one as the farm.
		return farmdb.ReopenedComment, true, false
	case in.Status == "" && isDecision(in.Action):
		text = strings.TrimPrefix(strings.TrimPrefix(in.Comment, in.Action+":"), " ")
	default:
		text = in.Comment
	}
	return text, in.User == "", in.User == "" && in.Status != ""
}

func isDecision(action string) bool {
	switch process.Decision(action) {
	case process.DecisionApprove, process.DecisionDecline, process.DecisionCancel:
		return true
	}
	return false
}

// updateKey identifies one update: a retry has the same input.
func updateKey(in UpdateRequestInput) string {
	return strings.Join([]string{"update", in.Status, in.Action, in.User, in.At.UTC().Format(time.RFC3339Nano), in.Comment}, "\x00")
}

func classifyRequestErr(err error) error {
	switch {
	case errors.Is(err, farmdb.ErrRequestNotFound):
		return activities.Permanent(ErrTypeRequestNotFound, "%v", err)
	case errors.Is(err, farmdb.ErrInvalidRequest):
		return activities.Permanent(activities.ErrTypeInvalidInput, "%v", err)
	}
	return err
}
