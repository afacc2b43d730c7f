package client

import (
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/wikiflow/wikiflow/process"
)

// withPendingAttempts adds what only the server knows about a running
// step: the attempt its activity is on and why the previous one failed. The
// workflow hears of a step's attempts only when the step ends, so without
// this a step riding out an outage would show as simply running.
func withPendingAttempts(st process.Status, desc *workflowservice.DescribeWorkflowExecutionResponse) process.Status {
	if desc == nil {
		return st
	}
	st.Steps = append([]process.StepStatus(nil), st.Steps...)
	for _, pa := range desc.GetPendingActivities() {
		// Step activities are named "<step>#<launch>" by the engine.
		name, _, ok := strings.Cut(pa.GetActivityId(), "#")
		if !ok {
			continue
		}
		s := st.Step(name)
		if s == nil || s.State != process.StepRunning {
			continue
		}
		// The server numbers the attempt running now, or, while the
		// activity waits (for a worker or its backoff), the one to come.
		ran := int(pa.GetAttempt())
		if pa.GetState() == enumspb.PENDING_ACTIVITY_STATE_SCHEDULED {
			ran--
		}
		s.Attempts += max(ran, 0)
		if f := pa.GetLastFailure(); f != nil {
			s.LastFailure = f.GetMessage()
		}
	}
	return st
}
