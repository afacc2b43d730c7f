//go:build integration

package integration

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// workerProcess is a worker service process of its own, with its command
// line and its health and hook addresses, which a restart keeps.
type workerProcess struct {
	cmd          *exec.Cmd
	args         []string
	health, hook string
}

// startWorkers starts n worker processes on one task queue, with flags
// added to each command line, and waits until each reports ready, as a
// farm runs them side by side.
func startWorkers(t testing.TB, queue string, n int, flags ...string) []*workerProcess {
	t.Helper()
	bin := buildBinary(t, "worker")
	var ws []*workerProcess
	for range n {
		w := &workerProcess{health: freeAddress(t), hook: freeAddress(t)}
		w.args = append([]string{bin, "--temporal.task_queue=" + queue, "--worker.health_address=" + w.health, "--hook.address=" + w.hook}, flags...)
		w.start(t)
		ws = append(ws, w)
	}
	for _, w := range ws {
		w.waitReady(t)
	}
	return ws
}

func (w *workerProcess) start(t testing.TB) {
	t.Helper()
	cmd := exec.Command(w.args[0], w.args[1:]...)
	cmd.Dir = repoRoot
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	w.cmd = cmd
}

func (w *workerProcess) waitReady(t testing.TB) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get("http://" + w.health + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker on %s never became ready", w.health)
		}
	}
}

// stop ends the worker with sig (SIGTERM: a deploy's graceful stop;
// SIGKILL: a crash) and waits until it is gone.
func (w *workerProcess) stop(sig os.Signal) {
	_ = w.cmd.Process.Signal(sig)
	_, _ = w.cmd.Process.Wait()
}

// restart starts the stopped worker again on its addresses and waits
// until it is ready.
func (w *workerProcess) restart(t testing.TB) {
	t.Helper()
	w.start(t)
	w.waitReady(t)
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
	workers[0].stop(syscall.SIGKILL)
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

// Both workers of a queue restarted one after the other, the first as a
// deploy stops it (SIGTERM), the second as a crash does (SIGKILL), while a
// deletion waits out its grace period and a wiki request waits for its
// second reviewer. Nothing is lost: the deletion drops the wiki once,
// after its grace period, with a backup that restores; the approval given
// before the restarts still counts, once; the one given through the
// restarted worker while the other is down counts once; the first
// approval's signed request sent again, to the other restarted worker, is
// refused as a replay; the requested wiki is created.
func TestBothWorkersRestartedDuringGracePeriodAndApproval(t *testing.T) {
	queue := "wikiflow-rolling-" + randomHex(3)
	workers := startWorkers(t, queue, 2)
	c := crashClient(queue, 30*time.Second)
	ctx := testContext(t, 8*time.Minute)
	db, owner := liveWiki(t, "roll")
	steward := newUser(t, "Steward", "steward")
	deletion := approvedDeletion(t, c, db, owner, steward)
	waitFor(t, c, deletion, time.Minute, process.StateGracePeriod)

	requester := newUser(t, "Asker")
	creators := []string{newUser(t, "CreatorA", "wikicreator"), newUser(t, "CreatorB", "wikicreator")}
	wanted := uniqueDB("rollreq")
	st, err := c.RequestWiki(ctx, client.CreateWikiRequest{Wiki: process.WikiSpec{DB: wanted, Sitename: "Rolling", Language: "en"}, Requester: requester}, "rolling restart")
	if err != nil {
		t.Fatal(err)
	}
	request := waitFor(t, c, st.ID, time.Minute, process.StateWaitingApproval).ID
	approve := func(w *workerProcess, creator, comment string) hookCall {
		call := signedCall("POST", "/v1/processes/"+request+"/actions", map[string]string{"action": "approve", "user": creator, "comment": comment})
		call.base = "http://" + w.hook
		if code, body := call.do(t); code != http.StatusAccepted {
			t.Fatalf("approval by %s through %s: HTTP %d %v", creator, w.hook, code, body)
		}
		return call
	}
	first := approve(workers[0], creators[0], "before the restarts")
	waitApprovals(t, c, request, 1)

	workers[0].stop(syscall.SIGTERM)
	workers[0].restart(t)
	workers[1].stop(syscall.SIGKILL)
	approve(workers[0], creators[1], "while the other worker is down")
	workers[1].restart(t)
	first.base = "http://" + workers[1].hook
	if code, _ := first.do(t); code != http.StatusUnauthorized {
		t.Fatalf("the first approval sent again to the other restarted worker: HTTP %d, want 401", code)
	}
	// The status answers although the worker that held the deletion in its
	// cache was just killed (the client clears that binding and asks again).
	if st, err := c.Status(ctx, deletion); err != nil || st.State != process.StateGracePeriod {
		t.Fatalf("the restarts did not fall inside the grace period, or the status did not answer: %s %v", st.State, err)
	}

	deleted := waitFor(t, c, deletion, 2*time.Minute, process.StateCompleted)
	assertDeleted(t, db, deleted)
	if s := deleted.Step(deletewiki.StepDropDatabase); s == nil || s.Attempts != 1 {
		t.Fatalf("the drop step after the restarts: %+v", s)
	}
	done := waitFor(t, c, request, 5*time.Minute, process.StateCompleted)
	accepted := map[string]int{}
	for _, a := range done.Approvals {
		if a.Accepted && a.Decision == process.DecisionApprove {
			accepted[a.User]++
		}
	}
	if len(accepted) != 2 || accepted[creators[0]] != 1 || accepted[creators[1]] != 1 {
		t.Fatalf("accepted approvals by person: %v, want one each from %v: %+v", accepted, creators, done.Approvals)
	}
	if n := signalCount(t, request); n != 2 {
		t.Fatalf("%d approval signals reached the request, want 2", n)
	}
	if done.Result[requestwiki.ResultCreateState] != string(process.StateCompleted) {
		t.Fatalf("the requested wiki's creation ended %q", done.Result[requestwiki.ResultCreateState])
	}
	if si, err := deps.API.SiteInfo(ctx, wanted); err != nil || si.SiteName != "Rolling" {
		t.Fatalf("the requested wiki does not answer: %+v %v", si, err)
	}
}

// A process held in the cache of a worker that is killed still answers its
// status at once through the other worker: the client clears the dead
// worker's binding (its sticky queue), which the server would otherwise
// keep for a while, and asks again.
func TestStatusAnswersRightAfterTheCachingWorkerDied(t *testing.T) {
	queue := "wikiflow-sticky-" + randomHex(3)
	first := startWorkers(t, queue, 1)[0]
	c := queueClient(queue)
	ctx := testContext(t, 2*time.Minute)
	requester := newUser(t, "Asker")
	st, err := c.RequestWiki(ctx, client.CreateWikiRequest{Wiki: process.WikiSpec{DB: uniqueDB("sticky"), Sitename: "Sticky", Language: "en"}, Requester: requester}, "sticky test")
	if err != nil {
		t.Fatal(err)
	}
	id := waitFor(t, c, st.ID, time.Minute, process.StateWaitingApproval).ID // in the first worker's cache now
	startWorkers(t, queue, 1)
	first.stop(syscall.SIGKILL)
	began := time.Now()
	got, err := c.Status(ctx, id)
	if err != nil || got.State != process.StateWaitingApproval || got.NoWorker != "" {
		t.Fatalf("status right after the caching worker died: %s %q %v", got.State, got.NoWorker, err)
	}
	t.Logf("answered in %s", time.Since(began).Round(time.Millisecond))
	if _, err := c.Decide(ctx, id, process.DecisionCancel, requester, "done"); err != nil {
		t.Fatal(err)
	}
}
