package activities

import (
	"context"
	"errors"
	"strings"
	"time"

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
	done := stepMetrics(ctx, in.Args)
	res, err := a.Next.ExecuteActivity(ctx, in)
	done(err)
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

// stepMetrics starts the metrics of a step's attempt (an activity whose
// input is a process.StepInput, other than an undo): it counts a retry
// (process.MetricStepRetries) when this is not the first attempt, and
// returns what times the attempt, by its outcome, once it returns
// (process.MetricStepDuration). Other activities get a no-op.
func stepMetrics(ctx context.Context, args []any) func(error) {
	var in process.StepInput
	switch v := firstArg(args).(type) {
	case process.StepInput:
		in = v
	case *process.StepInput:
		in = *v
	default:
		return func(error) {}
	}
	info := activity.GetInfo(ctx)
	if in.Step == "" || strings.HasPrefix(info.ActivityID, process.UndoIDPrefix) {
		return func(error) {}
	}
	metrics := activity.GetMetricsHandler(ctx).WithTags(map[string]string{
		process.MetricKindTag: in.Kind, process.MetricStepTag: in.Step,
	})
	if info.Attempt > 1 {
		metrics.Counter(process.MetricStepRetries).Inc(1)
	}
	start := time.Now()
	return func(err error) {
		outcome := process.OutcomeSucceeded
		if err != nil {
			outcome = process.OutcomeFailed
		}
		metrics.WithTags(map[string]string{process.MetricOutcomeTag: outcome}).
			Timer(process.MetricStepDuration).Record(time.Since(start))
	}
}

func firstArg(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
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
