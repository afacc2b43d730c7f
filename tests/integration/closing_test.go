//go:build integration

package integration

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

// lingeringProcess stands for a process in the given state that stays open
// until it is signalled "close": with an ended state, one that stores its
// last events (client.Closing).
func lingeringProcess(ctx workflow.Context, state process.State) error {
	if err := workflow.UpsertTypedSearchAttributes(ctx, workflows.ProcessStateKey.ValueSet(string(state))); err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, "close").Receive(ctx, nil)
	return nil
}

// A creation asked for while an earlier one of the same name has failed but
// still stores its last events waits for it to close and then runs; one
// asked for while the earlier one is open for real is refused at once, and
// nothing is created. A setting change waits the same way.
func TestStartWaitsForAClosingProcess(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	queue := "wikiflow-lingering-" + randomHex(3)
	w, err := deps.NewWorker(ctx, queue)
	if err != nil {
		t.Fatal(err)
	}
	w.RegisterWorkflow(lingeringProcess)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	requester := newUser(t, "Closer")
	linger := func(id string, state process.State) {
		opts := startOpts(queue)
		opts.ID = id
		if _, err := deps.Temporal.ExecuteWorkflow(ctx, opts, lingeringProcess, state); err != nil {
			t.Fatal(err)
		}
		waitSearchState(t, opts.ID, state)
	}
	create := func(db string) (string, error) {
		return cli.CreateWiki(ctx, client.CreateWikiRequest{
			Wiki: process.WikiSpec{DB: db, Sitename: "Closing " + db, Language: "en"}, Requester: requester,
		})
	}

	open := uniqueDB("lingeropen")
	linger(createwiki.CreateWikiID(open), process.StateRunning)
	if _, err := create(open); err == nil || !strings.Contains(err.Error(), createwiki.CreateWikiID(open)) {
		t.Fatalf("a creation beside one that runs: %v, want a refusal naming it", err)
	}
	if _, err := deps.Central.Wiki(ctx, open); !errors.Is(err, farmdb.ErrWikiNotFound) {
		t.Fatalf("%s after its creation was refused: %v, want not registered", open, err)
	}
	_ = deps.Temporal.SignalWorkflow(ctx, createwiki.CreateWikiID(open), "", "close", nil)

	db := uniqueDB("linger")
	linger(createwiki.CreateWikiID(db), process.StateFailed)
	const lingers = 2 * time.Second
	closeLater := func(id string) {
		go func() {
			time.Sleep(lingers)
			_ = deps.Temporal.SignalWorkflow(ctx, id, "", "close", nil)
		}()
	}
	closeLater(createwiki.CreateWikiID(db))
	start := time.Now()
	id, err := create(db)
	if err != nil {
		t.Fatalf("a creation after one that was closing: %v", err)
	}
	if waited := time.Since(start); waited < lingers {
		t.Fatalf("the creation started after %s, before the closing process closed (%s)", waited, lingers)
	}
	waitFor(t, cli, id, 2*time.Minute, process.StateCompleted)
	if si, err := deps.API.SiteInfo(ctx, db); err != nil || si.SiteName != "Closing "+db {
		t.Fatalf("the wiki after the wait: %+v %v", si, err)
	}

	// Every other process starts the same way (client.start).
	setting := changesetting.ChangeSettingID(db, "wgDefaultSkin")
	linger(setting, process.StateCompleted)
	closeLater(setting)
	start = time.Now()
	if _, err := cli.ChangeSetting(ctx, db, "wgDefaultSkin", `"monobook"`, requester, "after the wait"); err != nil {
		t.Fatalf("a setting change after one that was closing: %v", err)
	}
	if waited := time.Since(start); waited < lingers {
		t.Fatalf("the change started after %s, before the closing process closed (%s)", waited, lingers)
	}
	if st := waitFor(t, cli, setting, time.Minute, process.StateCompleted); st.Requester != requester {
		t.Fatalf("the setting change after the wait: %+v", st)
	}
}

// waitSearchState waits until visibility shows the workflow's state.
func waitSearchState(t *testing.T, id string, state process.State) {
	t.Helper()
	ctx := testContext(t, 30*time.Second)
	for {
		desc, err := deps.Temporal.DescribeWorkflowExecution(ctx, id, "")
		if err == nil && client.Closing(desc.WorkflowExecutionInfo) == process.Ended(state) {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("%s never showed the state %s (%v)", id, state, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
