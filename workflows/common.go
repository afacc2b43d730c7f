package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
)

// Helpers shared by the processes that have phases outside the engine.

// activityCtx gives one-off activities a summary (shown in the Web UI) and
// a retry policy.
func activityCtx(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		Summary:             summary,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, MaximumAttempts: 10},
	})
}

// checkRight asks MediaWiki, through the CheckRights activity, whether user
// holds right on wiki now.
func checkRight(ctx workflow.Context, summary, user, wiki, right string) (process.AuthorizeResult, error) {
	var res process.AuthorizeResult
	err := workflow.ExecuteActivity(activityCtx(ctx, summary), activities.NameCheckRights,
		process.AuthorizeInput{User: user, Wiki: wiki, AnyRight: []string{right}}).Get(ctx, &res)
	return res, err
}

// refuse ends a process as failed with a reason a person can read.
func refuse(st *process.Status, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	st.State = process.StateFailed
	st.Result["error"] = msg
	return temporal.NewNonRetryableApplicationError(msg, process.ErrTypeRefused, nil)
}

// finishState settles the state a process ends in: an error after a
// non-final state makes it failed, with the error as the reason when none
// was given; then the search attribute follows.
func finishState(ctx workflow.Context, st *process.Status, err error) {
	if err != nil && !process.Ended(st.State) {
		st.State = process.StateFailed
		if st.Result["error"] == "" {
			st.Result["error"] = err.Error()
		}
	}
	st.Ended = workflow.Now(ctx)
	upsertState(ctx, st.State)
}

// upsertState keeps the ProcessState search attribute in step.
func upsertState(ctx workflow.Context, state string) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, ProcessStateKey.ValueSet(state))
}
