//go:build integration

package integration

import (
	"context"
	"database/sql"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

// coreTables is the number of tables MediaWiki 1.39's installer creates.
func coreTables(t *testing.T) int {
	server, _ := deps.Clusters.Server("c1")
	tables, err := farmdb.Tables(context.Background(), server, "testwiki")
	if err != nil || len(tables) == 0 {
		t.Fatalf("reference wiki: %v", err)
	}
	return len(tables)
}

// startWorkerProcess runs the worker binary on its own task queue, with
// more flags when given.
func startWorkerProcess(t *testing.T, bin, queue string, flags ...string) *exec.Cmd {
	t.Helper()
	args := append([]string{"--temporal.task_queue=" + queue, "--worker.health_address=" + freeAddress(t), "--hook.address=" + freeAddress(t)}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Dir = repoRoot
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd
}

// killOnceTablesIn kills the worker (SIGKILL) as soon as the database db
// has a table, within the time given, and returns how many tables it has
// once the worker is gone: 0 when none came.
func killOnceTablesIn(ctx context.Context, worker *exec.Cmd, server *sql.DB, db string, within time.Duration) int {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); {
		if tables, _ := farmdb.Tables(ctx, server, db); len(tables) > 0 {
			_ = worker.Process.Signal(syscall.SIGKILL)
			_, _ = worker.Process.Wait()
			tables, _ = farmdb.Tables(ctx, server, db)
			return len(tables)
		}
		time.Sleep(time.Millisecond)
	}
	return 0
}

// wantPending checks, with no worker running to answer queries, that the
// server shows the process's activity still pending.
func wantPending(t *testing.T, ctx context.Context, id, activity string) {
	t.Helper()
	desc, err := deps.Temporal.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	pending := ""
	for _, a := range desc.PendingActivities {
		pending += a.ActivityType.GetName() + " "
	}
	if !strings.Contains(pending, activity) {
		t.Fatalf("%s should be pending after the kill, pending: %q", activity, pending)
	}
}

// A worker killed (SIGKILL) in the middle of the schema step leaves a half
// schema; after a restart the process finishes it and the wiki's schema is
// the installer's. The worker keeps no ready schemas here: moving one in is
// a single atomic rename, which a kill cannot cut in half.
func TestWorkerKilledDuringSchemaFinishesAfterRestart(t *testing.T) {
	bin := buildBinary(t, "worker")
	noPool := "--database.schema_pool_size=0"
	queue := "wikiflow-crash-" + randomHex(3)
	c := queueClient(queue)
	requester := newUser(t, "Requester")
	server, _ := deps.Clusters.Server("c1")
	full := coreTables(t)

	for attempt := 1; attempt <= 5; attempt++ {
		worker := startWorkerProcess(t, bin, queue, noPool)
		ctx := testContext(t, 3*time.Minute)
		db := uniqueDB("crash")
		id, err := c.CreateWiki(ctx, client.CreateWikiRequest{
			Wiki: process.WikiSpec{DB: db, Sitename: "Crash Wiki", Language: "en"}, Requester: requester,
		})
		if err != nil {
			t.Fatal(err)
		}
		// Kill the worker as soon as the schema is partly there.
		partial := killOnceTablesIn(ctx, worker, server, db, 30*time.Second)
		if partial == 0 || partial >= full {
			t.Logf("attempt %d: the kill landed outside the schema step (%d of %d tables); trying again", attempt, partial, full)
			startWorkerProcess(t, bin, queue, noPool) // let this wiki finish before the next try
			waitFor(t, c, id, 2*time.Minute, process.StateCompleted)
			continue
		}
		t.Logf("worker killed with %d of %d tables created", partial, full)
		wantPending(t, ctx, id, "CreateSchema")
		startWorkerProcess(t, bin, queue, noPool)
		st := waitFor(t, c, id, 2*time.Minute, process.StateCompleted)
		if s := st.Step(createwiki.StepSchema); s.State != process.StepSucceeded {
			t.Fatalf("schema step after the restart: %+v", s)
		}
		assertSchemaLikeInstaller(t, db)
		if _, err := deps.API.SiteInfo(ctx, db); err != nil {
			t.Fatalf("the wiki does not answer after the crash and restart: %v", err)
		}
		replayHistory(t, id)
		return
	}
	t.Fatal("could not kill the worker in the middle of the schema step in 5 attempts")
}
