//go:build integration

package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/process"
)

// A signed request is accepted once, whichever worker it reaches and even
// after the worker that took it restarted: the replay record is in the
// central database, not in one process's memory.
func TestHookReplayIsRefusedAcrossWorkersAndRestarts(t *testing.T) {
	_, owner, id := waitingChange(t, "replay", "replay test")
	workerA, workerB := hookServer(t), hookServer(t)
	path := "/v1/processes/" + id + "/actions"
	// One signed request, the same bytes each time it is sent.
	request := hookCall{method: "POST", path: path, timestamp: time.Now().Unix(), secret: hookSecret(),
		body: []byte(`{"action":"decline","user":"` + owner + `","comment":"sent once"}`)}
	send := func(addr string) int {
		request.base = "http://" + addr
		code, _ := request.do(t)
		return code
	}
	if code := send(workerA); code != http.StatusAccepted {
		t.Fatalf("the first delivery to worker A: HTTP %d", code)
	}
	if code := send(workerB); code != http.StatusUnauthorized {
		t.Fatalf("the same request to worker B: HTTP %d, want 401", code)
	}
	restarted := hookServer(t) // a worker started after A took the request
	if code := send(restarted); code != http.StatusUnauthorized {
		t.Fatalf("the same request after a restart: HTTP %d, want 401", code)
	}
	if code := send(workerA); code != http.StatusUnauthorized {
		t.Fatalf("the same request to worker A again: HTTP %d, want 401", code)
	}
	if n := signalCount(t, id); n != 1 {
		t.Fatalf("%d signals reached the process, want exactly one", n)
	}
	ctx := testContext(t, 2*time.Minute)
	if _, err := cli.Decide(ctx, id, process.DecisionCancel, owner, "done"); err != nil {
		t.Logf("cancel: %v", err) // the requester's decline may already have ended it
	}
}
