package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"

	"github.com/wikiflow/wikiflow/process"
)

// Interceptor is the worker's activity interceptor. For every activity it
//
//   - passes failures through Classify, so that one table decides what is
//     retried and what goes to a person, whichever activity failed;
//   - stamps the attempt (activity.GetInfo's, counted by the server, so an
//     attempt lost with a killed worker counts too) into a step's
//     process.StepResult and into the details (process.AttemptDetails) of
//     every failure, which is how the engine knows how often a step really
//     ran.
//
// service.NewWorker installs it, so the worker binary and the integration
// tests run every activity through it.
type Interceptor struct {
	interceptor.WorkerInterceptorBase
}

// InterceptActivity implements interceptor.WorkerInterceptor.
func (*Interceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityInbound{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type activityInbound struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *activityInbound) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := a.Next.ExecuteActivity(ctx, in)
	attempt := activity.GetInfo(ctx).Attempt
	if err != nil {
		// A cancelled or timed-out attempt is reported by the SDK and the
		// server as such; rewriting it would turn a cancellation into a failure.
		if ctx.Err() != nil || errors.Is(err, activity.ErrResultPending) {
			return res, err
		}
		return res, StampAttempt(Classify(err), attempt)
	}
	if r, ok := res.(process.StepResult); ok {
		r.Attempt = attempt
		return r, nil
	}
	return res, nil
}

// StampAttempt puts the attempt into an ApplicationError's details. An
// error that already has details of its own is left alone: its readers
// decode them by position.
func StampAttempt(err error, attempt int32) error {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app != err || app.HasDetails() {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(app.Message(), app.Type(), temporal.ApplicationErrorOptions{
		NonRetryable:   app.NonRetryable(),
		Cause:          app.Unwrap(),
		Details:        []any{process.AttemptDetails{Attempt: attempt}},
		NextRetryDelay: app.NextRetryDelay(),
		Category:       app.Category(),
	})
}

// WorkerInterceptors are the interceptors every worker of the farm runs.
func WorkerInterceptors() []interceptor.WorkerInterceptor {
	return []interceptor.WorkerInterceptor{&Interceptor{}}
}
