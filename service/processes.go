package service

import (
	"context"
	"errors"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	wfclient "github.com/wikiflow/wikiflow/client"
)

// openRuns answers whether a workflow run is still open, for the ownership
// of wikis: a claim whose process ended without releasing it (terminated by
// an operator) may be taken over, and so may that of a process that has
// ended and runs only to store its last events (client.Closing).
type openRuns struct{ temporal client.Client }

func (o openRuns) Open(ctx context.Context, workflowID, runID string) (bool, error) {
	desc, err := o.temporal.DescribeWorkflowExecution(ctx, workflowID, runID)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	info := desc.GetWorkflowExecutionInfo()
	return info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING && !wfclient.Closing(info), nil
}
