package workflows

import (
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// ProcessWorkflowName is the stable type name of ProcessWorkflow; clients
// start it by this name.
const ProcessWorkflowName = "Process"

// ProcessWorkflow runs any process definition given at start. Processes
// that need something before or after the graph (an approval gate, a
// notification) call RunProcess from their own workflow instead.
func ProcessWorkflow(ctx workflow.Context, in ProcessInput) (ProcessResult, error) {
	return RunProcess(ctx, in)
}

// RegisterProcessWorkflow registers ProcessWorkflow under ProcessWorkflowName.
func RegisterProcessWorkflow(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(ProcessWorkflow, workflow.RegisterOptions{Name: ProcessWorkflowName})
}
