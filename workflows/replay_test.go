package workflows_test

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"

	"github.com/wikiflow/wikiflow/service"
)

// Histories recorded from real runs against the local stack (refresh them
// with `RECORD_HISTORIES=1 go test -tags integration ./tests/integration/`).
// Replaying them with the current code fails with a non-determinism error
// when a change to a workflow would break processes that are already
// running: such a change needs workflow.GetVersion.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "histories", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("want at least 3 recorded histories, found %d", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{Interceptors: service.WorkerInterceptors()})
			if err != nil {
				t.Fatal(err)
			}
			service.RegisterWorkflows(r)
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, file); err != nil {
				t.Fatal(err)
			}
		})
	}
}
