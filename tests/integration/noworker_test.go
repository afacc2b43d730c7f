//go:build integration

package integration

import (
	"errors"

	"testing"
	"time"

	"go.temporal.io/api/enums/v1"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
)

// With its worker stopped, a completed creation still reads as completed
// with its real steps (the status is the workflow's result, which Temporal
// keeps), and an open process says that no worker answers instead of
// guessing.
func TestStatusWithoutAWorker(t *testing.T) {
	queue := "wikiflow-test-alone-" + randomHex(4)
	ctx := testContext(t, 3*time.Minute)
	w, err := deps.NewWorker(ctx, queue)
	if err == nil {
		err = w.Start()
	}
	if err != nil {
		t.Fatal(err)
	}
	c := queueClient(queue)
	requester := newUser(t, "Alone")
	db := uniqueDB("alone")
	id, err := c.CreateWiki(ctx, client.CreateWikiRequest{Wiki: process.WikiSpec{DB: db, Sitename: "Alone", Language: "en"}, Requester: requester})
	if err != nil {
		t.Fatal(err)
	}
	done := waitFor(t, c, id, 2*time.Minute, process.StateCompleted)
	// The engine's state is completed a moment before the workflow closes
	// (it gives the wiki back first): stop the worker once it has closed.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(100 * time.Millisecond) {
		desc, err := deps.Temporal.DescribeWorkflowExecution(ctx, id, "")
		if err == nil && desc.WorkflowExecutionInfo.Status == enums.WORKFLOW_EXECUTION_STATUS_COMPLETED {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the creation never closed: %v", err)
		}
	}
	w.Stop()

	st, err := c.Status(ctx, id)
	if err != nil {
		t.Fatalf("status of a completed creation with no worker: %v", err)
	}
	if st.State != process.StateCompleted || len(st.Steps) != len(done.Steps) || stepState(st, createwiki.StepValidate) != "" {
		t.Fatalf("status with no worker: %s with steps %+v; want completed with the real steps %+v", st.State, st.Steps, done.Steps)
	}
	for _, s := range st.Steps {
		if s.State != process.StepSucceeded {
			t.Errorf("step %s is %s", s.Name, s.State)
		}
	}

	// An open process on a queue no worker ever polled: nobody runs it. (A
	// worker that just stopped is still listed as a poller for a minute, so
	// the same queue could not tell yet.)
	cfgAlone := *deps.Config
	cfgAlone.Temporal.TaskQueue = "wikiflow-test-nobody-" + randomHex(4)
	c = &client.Client{Temporal: deps.Temporal, Config: &cfgAlone}
	start := time.Now()
	_, err = c.DeleteWiki(ctx, db, requester, "nobody will see this")
	if !errors.Is(err, client.ErrNoWorker) {
		t.Fatalf("a deletion with no worker: %v, want ErrNoWorker", err)
	}
	st, err = c.Status(ctx, deletewiki.DeleteWikiID(db))
	if !errors.Is(err, client.ErrNoWorker) || st.NoWorker == "" || st.State != process.StateRunning {
		t.Fatalf("status of an open process with no worker: %+v %v", st, err)
	}
	t.Logf("no worker answered after %v", time.Since(start))
	if err := deps.Temporal.TerminateWorkflow(ctx, deletewiki.DeleteWikiID(db), "", "test cleanup"); err != nil {
		t.Fatal(err)
	}
}
