package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/hook"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
)

// visibility answers the gauges' queries: count is the count of every
// query, started the start times every listing returns.
type visibility struct {
	client.Client
	count   int64
	started []time.Time
	queries []string
}

func (v *visibility) CountWorkflow(_ context.Context, r *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error) {
	v.queries = append(v.queries, r.Query)
	n := int64(0)
	if strings.Contains(r.Query, "'waiting-approval'") && strings.Contains(r.Query, "'delete-wiki'") {
		n = v.count
	}
	return &workflowservice.CountWorkflowExecutionsResponse{Count: n}, nil
}

func (v *visibility) ListWorkflow(_ context.Context, r *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	v.queries = append(v.queries, r.Query)
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	for _, s := range v.started {
		resp.Executions = append(resp.Executions, &workflow.WorkflowExecutionInfo{StartTime: timestamppb.New(s)})
	}
	return resp, nil
}

// The worker's /metrics serves, in Prometheus's text format, the farm's
// metrics: a process started and ended with a step retried once, the
// gauges from visibility counts, and the hook's requests.
func TestMetricsEndpoint(t *testing.T) {
	m := NewMetrics(slog.New(slog.DiscardHandler))
	t.Cleanup(func() { _ = m.Close() })
	vis := &visibility{count: 3, started: []time.Time{time.Now().Add(-time.Hour), time.Now().Add(-48 * time.Hour)}}
	d := &Deps{Config: &config.Config{}, Temporal: vis, Metrics: m, Logger: slog.New(slog.DiscardHandler)}

	runFlakyProcess(t, m)
	if err := d.RefreshGauges(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, q := range vis.queries {
		if !strings.Contains(q, "ExecutionStatus = 'Running'") {
			t.Fatalf("a gauge query counts closed workflows: %s", q)
		}
	}
	hookSrv := httptest.NewServer((&hook.Server{Metrics: m.Handler}).Handler())
	defer hookSrv.Close()
	resp, err := http.Get(hookSrv.URL + "/v1/processes") // unsigned: 401
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	want := []string{
		`wikiflow_processes_started_total{`,
		`kind="create-wiki"`,
		`wikiflow_processes_ended_total{`,
		`state="completed"`,
		`wikiflow_step_duration_seconds_bucket{`,
		`outcome="failed"`,
		`outcome="succeeded"`,
		`wikiflow_step_retries_total{`,
		`step="schema"`,
		`wikiflow_open_processes{kind="delete-wiki",state="waiting-approval"} 3`,
		`wikiflow_open_processes{kind="create-wiki",state="needs-attention"} 0`,
		`wikiflow_approvals_waiting{kind="delete-wiki"} 3`,
		`wikiflow_approval_oldest_age_seconds{kind="delete-wiki"} 1728`, // 48 hours: 172800.x s
		`wikiflow_hook_requests_total{code="401",route="GET /v1/processes"} 1`,
		`process_resident_memory_bytes`,
	}
	health := httptest.NewServer(d.HealthHandler())
	defer health.Close()
	var text string
	deadline := time.Now().Add(10 * time.Second)
	for {
		text = scrape(t, health.URL+"/metrics")
		missing := ""
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %s:\n%s", missing, farmLines(text))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// runFlakyProcess runs a one-step create-wiki process whose step fails
// once and then succeeds, with the worker's interceptors and m's handler.
func runFlakyProcess(t *testing.T, m *Metrics) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	ts.SetMetricsHandler(m.Handler)
	env := ts.NewTestWorkflowEnvironment()
	env.SetWorkerOptions(worker.Options{Interceptors: WorkerInterceptors()})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.ProcessKindKey.ValueSet("create-wiki")),
	})
	workflows.RegisterProcessWorkflow(env)
	attempts := 0
	env.RegisterActivityWithOptions(func(context.Context, process.StepInput) (process.StepResult, error) {
		if attempts++; attempts == 1 {
			return process.StepResult{}, errors.New("flaky")
		}
		return process.StepResult{Summary: "done"}, nil
	}, activity.RegisterOptions{Name: "schema"})
	env.RegisterActivityWithOptions(func(context.Context, activities.StoreEventsInput) (activities.StoreEventsResult, error) {
		return activities.StoreEventsResult{}, nil
	}, activity.RegisterOptions{Name: activities.NameStoreEvents})
	env.ExecuteWorkflow(workflows.ProcessWorkflowName, workflows.ProcessInput{
		Definition: process.Definition{Kind: "create-wiki", AttentionWindow: time.Hour, Steps: []process.StepDef{
			{Name: "schema", Activity: "schema", Critical: true, Retry: process.RetryDef{MaximumAttempts: 3}},
		}},
		Wiki:      process.WikiSpec{DB: "demowiki"},
		Requester: "alice",
	})
	if err := env.GetWorkflowError(); err != nil || attempts != 2 {
		t.Fatalf("process: %v after %d attempts", err, attempts)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// farmLines are the wikiflow_ lines of a scrape.
func farmLines(text string) string {
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "wikiflow_") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}
