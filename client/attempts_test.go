package client

import (
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/wikiflow/wikiflow/process"
)

// A step riding out an outage shows the attempts the server counts and the
// last failure, while it runs.
func TestWithPendingAttempts(t *testing.T) {
	st := process.Status{Steps: []process.StepStatus{
		{Name: "schema", State: process.StepRunning},
		{Name: "rights", State: process.StepRunning, Attempts: 2}, // two earlier launches
		{Name: "register", State: process.StepSucceeded, Attempts: 1},
	}}
	desc := &workflowservice.DescribeWorkflowExecutionResponse{PendingActivities: []*workflowpb.PendingActivityInfo{
		{ActivityId: "schema#1", State: enumspb.PENDING_ACTIVITY_STATE_STARTED, Attempt: 4,
			LastFailure: &failurepb.Failure{Message: "dial tcp 127.0.0.1:3306: connect: connection refused"}},
		{ActivityId: "rights#3", State: enumspb.PENDING_ACTIVITY_STATE_SCHEDULED, Attempt: 3,
			LastFailure: &failurepb.Failure{Message: "MediaWiki answered HTTP 503"}},
		{ActivityId: "register#1", State: enumspb.PENDING_ACTIVITY_STATE_STARTED, Attempt: 9}, // not running in the status: ignored
		{ActivityId: "7", State: enumspb.PENDING_ACTIVITY_STATE_STARTED, Attempt: 2},          // not a step
	}}
	got := withPendingAttempts(st, desc)
	if s := got.Step("schema"); s.Attempts != 4 || s.LastFailure == "" {
		t.Errorf("schema: %+v, want 4 attempts and the last failure", s)
	}
	if s := got.Step("rights"); s.Attempts != 4 || s.LastFailure != "MediaWiki answered HTTP 503" {
		t.Errorf("rights: %+v, want 2 earlier + 2 run in this launch", s)
	}
	if s := got.Step("register"); s.Attempts != 1 {
		t.Errorf("register: %+v", s)
	}
	if st.Step("schema").Attempts != 0 {
		t.Error("the caller's status was changed")
	}
}
