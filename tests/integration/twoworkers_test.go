//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// workerProcess is a worker service process of its own on queue, with its
// health and hook addresses.
type workerProcess struct {
	cmd          *exec.Cmd
	health, hook string
}

// startWorkers starts n worker processes on one task queue and waits until
// each reports ready, as a farm runs them side by side.
func startWorkers(t *testing.T, queue string, n int) []workerProcess {
	t.Helper()
	bin := buildBinary(t, "worker")
	var ws []workerProcess
	for range n {
		w := workerProcess{health: freeAddress(t), hook: freeAddress(t)}
		w.cmd = exec.Command(bin, "--temporal.task_queue="+queue, "--worker.health_address="+w.health, "--hook.address="+w.hook)
		w.cmd.Dir = repoRoot
		if err := w.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.cmd.Process.Kill(); _, _ = w.cmd.Process.Wait() })
		ws = append(ws, w)
	}
	for _, w := range ws {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
			if resp, err := http.Get("http://" + w.health + "/readyz"); err == nil {
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the worker on %s never became ready", w.health)
			}
		}
	}
	return ws
}

// Two workers on one task queue; one is killed (SIGKILL) while 20
// creations run. The other finishes every one: 20 wikis, each registered
// once, each answering with its own sitename, every step succeeded once.
func TestTwoWorkersOneKilledDuringCreations(t *testing.T) {
	queue := "wikiflow-two-" + randomHex(3)
	workers := startWorkers(t, queue, 2)
	c := queueClient(queue)
	requester := newUser(t, "Twin")
	ctx := testContext(t, 12*time.Minute)
	const n = 20
	dbs := make([]string, n)
	ids := make([]string, n)
	for i := range n {
		dbs[i] = uniqueDB("twin")
		id, err := c.CreateWiki(ctx, client.CreateWikiRequest{
			Wiki: process.WikiSpec{DB: dbs[i], Sitename: fmt.Sprintf("Twin %d", i), Language: "en"}, Requester: requester,
		})
		if err != nil {
			t.Fatalf("creation %d: %v", i, err)
		}
		ids[i] = id
	}
	// Every creation has passed its checks; most are in their steps now.
	if err := workers[0].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_, _ = workers[0].cmd.Process.Wait()
	for i, id := range ids {
		st := waitFor(t, c, id, 10*time.Minute, process.StateCompleted, process.StateFailed, process.StateNeedsAttention)
		if st.State != process.StateCompleted {
			t.Fatalf("%s ended %s after a worker was killed: %+v", id, st.State, st.Steps)
		}
		for _, s := range st.Steps {
			if s.State != process.StepSucceeded {
				t.Errorf("%s: step %s is %s (%s)", id, s.Name, s.State, s.Error)
			}
		}
		si, err := deps.API.SiteInfo(ctx, dbs[i])
		if err != nil || si.SiteName != fmt.Sprintf("Twin %d", i) {
			t.Errorf("%s does not answer as Twin %d: %+v %v", dbs[i], i, si, err)
		}
		var rows int
		if err := deps.Central.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM cw_wikis WHERE wiki_dbname = ?", dbs[i]).Scan(&rows); err != nil || rows != 1 {
			t.Errorf("%s is registered %d times (%v)", dbs[i], rows, err)
		}
	}
}

// A wiki request that two wiki creators approve, one through each worker's
// hook endpoint: both decisions count once each and the wiki is created.
func TestWikiRequestApprovedThroughTwoWorkers(t *testing.T) {
	queue := "wikiflow-twohooks-" + randomHex(3)
	workers := startWorkers(t, queue, 2)
	c := queueClient(queue)
	ctx := testContext(t, 6*time.Minute)
	requester := newUser(t, "Asker")
	creators := []string{newUser(t, "CreatorA", "wikicreator"), newUser(t, "CreatorB", "wikicreator")}
	db := uniqueDB("tworeq")
	st, err := c.RequestWiki(ctx, client.CreateWikiRequest{Wiki: process.WikiSpec{DB: db, Sitename: "Two Hooks", Language: "en"}, Requester: requester}, "two workers")
	if err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, c, st.ID, time.Minute, process.StateWaitingApproval)
	for i, w := range workers {
		call := signedCall("POST", "/v1/processes/"+st.ID+"/actions",
			map[string]string{"action": "approve", "user": creators[i], "comment": "via worker " + string(rune('A'+i))})
		call.base = "http://" + w.hook
		if code, body := call.do(t); code != http.StatusAccepted {
			t.Fatalf("approval through worker %d: HTTP %d %v", i, code, body)
		}
		if i == 0 {
			waitApprovals(t, c, st.ID, 1)
		}
	}
	done := waitFor(t, c, st.ID, 5*time.Minute, process.StateCompleted, process.StateFailed)
	if done.State != process.StateCompleted || done.Result[requestwiki.ResultCreateState] != string(process.StateCompleted) {
		t.Fatalf("the request ended %s, its creation %q", done.State, done.Result[requestwiki.ResultCreateState])
	}
	accepted := 0
	for _, a := range done.Approvals {
		if a.Accepted && a.Decision == process.DecisionApprove {
			accepted++
			if !strings.HasPrefix(a.Comment, "via worker") {
				t.Errorf("approval %+v did not come through a worker's hook", a)
			}
		}
	}
	if accepted != 2 {
		t.Errorf("%d accepted approvals, want 2: %+v", accepted, done.Approvals)
	}
	if si, err := deps.API.SiteInfo(ctx, db); err != nil || si.SiteName != "Two Hooks" {
		t.Errorf("the requested wiki does not answer: %+v %v", si, err)
	}
}

// waitApprovals waits until the process recorded n accepted approvals.
func waitApprovals(t *testing.T, c *client.Client, id string, n int) {
	t.Helper()
	ctx := testContext(t, time.Minute)
	for {
		st, err := c.Status(ctx, id)
		got := 0
		for _, a := range st.Approvals {
			if a.Accepted {
				got++
			}
		}
		if err == nil && got >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s never recorded %d approvals: %+v %v", id, n, st.Approvals, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
