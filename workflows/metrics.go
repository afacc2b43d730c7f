package workflows

import (
	"errors"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/process"
)

// MetricsInterceptor counts every process as it starts and as it ends
// (process.MetricProcessesStarted, MetricProcessesEnded), whatever its
// workflow: the kind is the ProcessKind search attribute its start carries,
// the end state the ProcessState it last upserted. It emits through
// workflow.GetMetricsHandler, which the SDK silences while a workflow
// replays, and it reads only the workflow's own search attributes, so a
// worker with it emits exactly the commands one without it does (the
// replay tests run with it). A workflow without a kind (InspectWiki) is
// not a process and is not counted.
//
// A workflow task that fails after the start was counted (a worker killed
// before it answered) runs again and counts the start again: the counters
// are close, not exact.
type MetricsInterceptor struct {
	interceptor.WorkerInterceptorBase
}

// InterceptWorkflow implements interceptor.WorkerInterceptor.
func (*MetricsInterceptor) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &metricsInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type metricsInbound struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (m *metricsInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	kind := processKind(ctx)
	if kind != "" {
		started(ctx, kind)
	}
	res, err := m.Next.ExecuteWorkflow(ctx, in)
	var cont *workflow.ContinueAsNewError
	if errors.As(err, &cont) {
		return res, err // the same process goes on in the next run
	}
	if kind == "" {
		// Started without the attribute (by hand, or in a test
		// environment): a process that upserted one counts from its end.
		if kind = processKind(ctx); kind == "" {
			return res, err
		}
		started(ctx, kind)
	}
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{
		process.MetricKindTag: kind, process.MetricStateTag: string(endState(ctx, err)),
	}).Counter(process.MetricProcessesEnded).Inc(1)
	return res, err
}

func processKind(ctx workflow.Context) string {
	kind, _ := workflow.GetTypedSearchAttributes(ctx).GetKeyword(ProcessKindKey)
	return kind
}

func started(ctx workflow.Context, kind string) {
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{process.MetricKindTag: kind}).
		Counter(process.MetricProcessesStarted).Inc(1)
}

// endState is the state a process's workflow ended in: the ProcessState
// it upserted when that is an end state, else what the error says.
func endState(ctx workflow.Context, err error) process.State {
	state, _ := workflow.GetTypedSearchAttributes(ctx).GetKeyword(ProcessStateKey)
	switch {
	case process.Ended(process.State(state)):
		return process.State(state)
	case err == nil:
		return process.StateCompleted
	case temporal.IsCanceledError(err):
		return process.StateCancelled
	}
	return process.StateFailed
}
