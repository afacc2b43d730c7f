package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

// Helpers shared by the processes that have phases outside the engine.

// ActivityCtx gives one-off activities a summary (shown in the Web UI) and
// the process's activity budget (see OneOffOptions): an outage is waited
// out instead of failing or refusing the request.
func ActivityCtx(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, OneOffOptions(ctx, summary, time.Minute, defaultOneOffRetry))
}

// CheckRight asks MediaWiki, through the CheckRights activity, whether user
// holds right on wiki now.
func CheckRight(ctx workflow.Context, summary, user, wiki string, right process.Right) (process.AuthorizeResult, error) {
	var res process.AuthorizeResult
	err := RunCheck(ctx, OneOffOptions(ctx, summary, time.Minute, defaultOneOffRetry), activities.NameCheckRights,
		process.AuthorizeInput{User: user, Wiki: wiki, AnyRight: []process.Right{right}}, &res)
	return res, err
}

// defaultOneOffRetry is a one-off activity's retry policy in processes
// recorded before retry budgets.
var defaultOneOffRetry = &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10}

// localChecks names the version from which the short checks a caller waits
// for (a request's validation, taking the wiki's ownership, a person's
// rights) run as local activities: in the worker running the workflow task,
// without a round trip through the server before and after (a marker in
// the history instead of activity events). Recorded histories keep their
// activities.
const localChecks = "local-checks"

// RunCheck runs the registered activity name with opts and puts its
// result in out: from the local-checks version on, first once as a local
// activity, and only when that attempt fails in a way worth retrying (an
// outage) as an activity, whose retries the server keeps and shows; before
// that version, as an activity.
func RunCheck(ctx workflow.Context, opts workflow.ActivityOptions, name string, in, out any) error {
	if workflow.GetVersion(ctx, localChecks, workflow.DefaultVersion, 1) >= 1 {
		err := workflow.ExecuteLocalActivity(workflow.WithLocalActivityOptions(ctx, onceLocally(opts)), name, in).Get(ctx, out)
		rest, goOn := continueAsActivity(err, opts)
		if !goOn {
			return err
		}
		opts = rest
	}
	return workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, opts), name, in).Get(ctx, out)
}

// identityChange names the version from which processes ask MediaWiki who
// their requester and deciders are (canonical name, central id), compare
// people by id, and end a refused request completed in the state refused
// rather than failed (so the Web UI's Failed list holds only real failures).
// Histories recorded before it keep the old path.
const identityChange = "canonical-identity"

// KnowsPeople tells whether this run is on the identity version. Call it
// once, first thing, and keep the answer: a later first call in a workflow
// that started on older code would switch it over midway.
func KnowsPeople(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, identityChange, workflow.DefaultVersion, 1) >= 1
}

// Refuse ends a process with a reason a person can read; FinishState
// decides whether that is the state refused or, for older runs, failed.
func Refuse(st *process.Status, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	st.State = process.StateFailed
	st.Result[process.ResultError] = msg
	return temporal.NewNonRetryableApplicationError(msg, process.ErrTypeRefused, nil)
}

// FinishState settles the state a process ends in: a refusal is the state
// refused and no workflow error when refusalsComplete; another error after
// a non-final state makes it failed, with the error as the reason when none
// was given; then the search attribute follows. It returns the error the
// workflow ends with.
func FinishState(ctx workflow.Context, st *process.Status, err error, refusalsComplete bool) error {
	var app *temporal.ApplicationError
	if refusalsComplete && errors.As(err, &app) && app.Type() == process.ErrTypeRefused {
		st.State, err = process.StateRefused, nil
	}
	if err != nil && !process.Ended(st.State) {
		st.State = process.StateFailed
		if st.Result[process.ResultError] == "" {
			st.Result[process.ResultError] = err.Error()
		}
	}
	st.Ended = workflow.Now(ctx)
	UpsertState(ctx, st.State)
	return err
}

// Identify takes what a rights check said about a requester: on the
// identity version the canonical name and central id replace the name as
// given (and the Requester search attribute follows), and a name that is no
// account is refused.
func Identify(ctx workflow.Context, st *process.Status, auth process.AuthorizeResult, who *process.Person) error {
	if auth.NoAccount || auth.UserID <= 0 {
		return Refuse(st, "%s", auth.Reason)
	}
	if auth.User != who.Name {
		_ = workflow.UpsertTypedSearchAttributes(ctx, RequesterKey.ValueSet(auth.User))
	}
	*who = process.Person{Name: auth.User, ID: auth.UserID}
	st.Requester, st.RequesterID = who.Name, who.ID
	return nil
}

// IsRefusal tells whether an activity's error refuses the request itself
// (invalid input, a wiki that exists or does not), as opposed to a failure
// of the farm (misconfigured, down) that a person must look at.
func IsRefusal(err error) (string, bool) {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || !app.NonRetryable() {
		return "", false
	}
	switch app.Type() {
	case activities.ErrTypeInvalidInput, activities.ErrTypeWikiExists, activities.ErrTypeWikiNotFound, activities.ErrTypeUnknownWiki, activities.ErrTypeNotOurs,
		activities.ErrTypeOwned:
		return app.Message(), true
	}
	return "", false
}

// FollowChange names the version from which a process re-reads what other
// tools (CreateWiki's and ManageWiki's own pages) may have changed before it
// writes over it or does something irreversible, and follows them.
const FollowChange = "follow-writers"

// ownerChange names the version from which the processes that create,
// delete or restore a wiki hold it as its one owner while they run.
const ownerChange = "wiki-owner"

// OwnsWikis tells whether this run is on the ownership version; call it
// once, first thing, like KnowsPeople.
func OwnsWikis(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, ownerChange, workflow.DefaultVersion, 1) >= 1
}

// OwnWiki makes this process the wiki's one owner; when another open
// process owns it the request is refused, naming that process.
func OwnWiki(ctx workflow.Context, st *process.Status, wiki, kind string) error {
	err := RunCheck(ctx, OneOffOptions(ctx, "own "+wiki, time.Minute, defaultOneOffRetry), activities.NameOwnWiki,
		activities.OwnWikiInput{Wiki: wiki, Kind: kind}, nil)
	if why, ok := IsRefusal(err); ok {
		return Refuse(st, "%s", why)
	}
	return err
}

// ReleaseWiki gives the wiki back when the process ends, whatever ended it.
func ReleaseWiki(ctx workflow.Context, wiki string) {
	var f *activities.Farm
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	_ = workflow.ExecuteActivity(ActivityCtx(dctx, "release "+wiki), f.ReleaseWiki, activities.ReleaseWikiInput{Wiki: wiki}).Get(dctx, nil)
}

// Protected tells whether a wiki may never be deleted, renamed or moved.
func Protected(db, central string, listed []string) bool {
	if db == central {
		return true
	}
	for _, w := range listed {
		if w == db {
			return true
		}
	}
	return false
}

// UpsertState keeps the ProcessState search attribute in step.
func UpsertState(ctx workflow.Context, state process.State) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, ProcessStateKey.ValueSet(string(state)))
}
