package workflows

import (
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/process"
)

// How activities are retried: the policies from a process's definition
// (steps) and memo (everything else), and how many times a step really ran.

// retryPolicy is Temporal's policy for a RetryDef.
func retryPolicy(r process.RetryDef) *temporal.RetryPolicy {
	policy := &temporal.RetryPolicy{
		// The server's defaults, spelled out so that the test environment,
		// which does not fill them in, behaves the same.
		InitialInterval:    time.Second,
		BackoffCoefficient: 2,
		MaximumAttempts:    process.DefaultMaximumAttempts,
	}
	if r.InitialInterval > 0 {
		policy.InitialInterval = r.InitialInterval
	}
	if r.BackoffCoefficient > 0 {
		policy.BackoffCoefficient = r.BackoffCoefficient
	}
	policy.MaximumInterval = 100 * policy.InitialInterval
	if r.MaximumInterval > 0 {
		policy.MaximumInterval = r.MaximumInterval
	}
	switch {
	case r.MaximumAttempts > 0:
		policy.MaximumAttempts = r.MaximumAttempts
	case r.Budget > 0:
		policy.MaximumAttempts = 0 // unlimited: the budget bounds them
	}
	return policy
}

// scheduleToClose is the activity's ScheduleToClose timeout for a policy:
// the budget, but at least one StartToClose so that a budget shorter than
// an attempt may take never cuts the only attempt short. Zero (none)
// without a budget.
func scheduleToClose(r process.RetryDef, startToClose time.Duration) time.Duration {
	if r.Budget <= 0 {
		return 0
	}
	return max(r.Budget, startToClose)
}

// retryPolicies reads the policies a process started with from its memo
// (process.MemoRetry); ok is false for processes started without them.
func retryPolicies(ctx workflow.Context) (process.RetryPolicies, bool) {
	var rp process.RetryPolicies
	memo := workflow.GetInfo(ctx).Memo
	if memo == nil {
		return rp, false
	}
	p, ok := memo.GetFields()[process.MemoRetry]
	if !ok || p == nil {
		return rp, false
	}
	if err := converter.GetDefaultDataConverter().FromPayload(p, &rp); err != nil {
		workflow.GetLogger(ctx).Warn("unreadable retry policies in the memo: using the fixed ones", "error", err)
		return rp, false
	}
	return rp, true
}

// RetryMemo passes a process's policies on to a child workflow; nil when it
// has none.
func RetryMemo(ctx workflow.Context) map[string]any {
	if rp, ok := retryPolicies(ctx); ok {
		return map[string]any{process.MemoRetry: rp}
	}
	return nil
}

// OneOffOptions are the options of an activity outside the step graph:
// the process's activity budget, or legacy (the fixed policy such calls
// had) for a process started without one.
func OneOffOptions(ctx workflow.Context, summary string, timeout time.Duration, legacy *temporal.RetryPolicy) workflow.ActivityOptions {
	return budgetOptions(ctx, summary, timeout, legacy, func(rp process.RetryPolicies) process.RetryDef { return rp.Activities })
}

// decisionOptions are OneOffOptions for a rights check a person waits for:
// the shorter decision budget (process.DecisionBudget).
func decisionOptions(ctx workflow.Context, summary string, timeout time.Duration, legacy *temporal.RetryPolicy) workflow.ActivityOptions {
	return budgetOptions(ctx, summary, timeout, legacy, func(rp process.RetryPolicies) process.RetryDef { return rp.Decisions })
}

// budgetOptions are an activity's options under the budget that budget
// picks from the process's policies, or legacy without them.
func budgetOptions(ctx workflow.Context, summary string, timeout time.Duration, legacy *temporal.RetryPolicy,
	budget func(process.RetryPolicies) process.RetryDef) workflow.ActivityOptions {
	opts := workflow.ActivityOptions{StartToCloseTimeout: timeout, Summary: summary, RetryPolicy: legacy}
	if rp, ok := retryPolicies(ctx); ok {
		opts.RetryPolicy = retryPolicy(budget(rp))
		opts.ScheduleToCloseTimeout = scheduleToClose(budget(rp), timeout)
	}
	return opts
}

// launchAttempts is how many times one launch of a step ran its activity:
// the attempt the worker's interceptor stamped on the result or on the
// final failure. When the launch ended in a timeout (a worker died on the
// last attempt), the server puts the previous attempt's failure under it,
// and the attempt that timed out is added. Results recorded before the
// stamp existed count one, or the maximum when the retries ran out.
func launchAttempts(res process.StepResult, err error, maximum int32) int {
	if err == nil {
		if res.Attempt > 0 {
			return int(res.Attempt)
		}
		return 1
	}
	lost := 0
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch x := e.(type) {
		case *temporal.ApplicationError:
			var d process.AttemptDetails
			if x.HasDetails() && x.Details(&d) == nil && d.Attempt > 0 {
				return int(d.Attempt) + lost
			}
		case *temporal.TimeoutError:
			if t := x.TimeoutType(); t == enumspb.TIMEOUT_TYPE_START_TO_CLOSE || t == enumspb.TIMEOUT_TYPE_HEARTBEAT {
				lost++
			}
		}
	}
	var act *temporal.ActivityError
	if errors.As(err, &act) && act.RetryState() == enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED && maximum > 0 {
		return int(maximum)
	}
	return max(lost, 1)
}
