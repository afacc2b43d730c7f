//go:build integration

package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/wikiflow/wikiflow/service"
)

// replayHistory replays a live run's history with the current code: any
// non-determinism shows here first. With RECORD_HISTORIES=<name> the
// history is also saved under workflows/testdata/histories for the replay
// tests that guard future changes.
func replayHistory(t *testing.T, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	iter := deps.Temporal.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	hist := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
	}
	r := worker.NewWorkflowReplayer()
	service.RegisterWorkflows(r)
	if err := r.ReplayWorkflowHistory(nil, hist); err != nil {
		t.Fatalf("replaying %s with the current code: %v", id, err)
	}
	if name := os.Getenv("RECORD_HISTORIES"); name != "" {
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(hist)
		if err != nil {
			t.Fatal(err)
		}
		// A subtest's history is <test>-<subtest>.json.
		file := filepath.Join(repoRoot, "workflows", "testdata", "histories", strings.ReplaceAll(t.Name(), "/", "-")+".json")
		_ = os.MkdirAll(filepath.Dir(file), 0o755)
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
