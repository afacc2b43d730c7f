//go:build integration

package integration

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/hook"
	"github.com/wikiflow/wikiflow/process"
)

// A signed request is accepted once, whichever worker it reaches and even
// after the worker that took it restarted: the replay record is in the
// central database, not in one process's memory.
func TestHookReplayIsRefusedAcrossWorkersAndRestarts(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	db, owner := liveWiki(t, "replay")
	st, err := cli.ChangeSetting(ctx, db, "wgMaxArticleSize", "2000", owner, "replay test")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, st.ID, time.Minute, process.StateWaitingApproval)
	serve := func() string {
		h, err := deps.HookHandler(cli)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: h}
		go func() { _ = srv.Serve(ln) }() // returns http.ErrServerClosed once the cleanup closes it
		t.Cleanup(func() { srv.Close() })
		return ln.Addr().String()
	}
	workerA, workerB := serve(), serve()
	path := "/v1/processes/" + st.ID + "/actions"
	body := []byte(`{"action":"decline","user":"` + owner + `","comment":"sent once"}`)
	ts := time.Now().Unix()
	sig := hook.Sign(hookSecret(), ts, "POST", path, body)
	send := func(addr string) int {
		req, _ := http.NewRequest("POST", "http://"+addr+path, bytes.NewReader(body))
		req.Header.Set(hook.HeaderTimestamp, strconv.FormatInt(ts, 10))
		req.Header.Set(hook.HeaderSignature, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send(workerA); code != http.StatusAccepted {
		t.Fatalf("the first delivery to worker A: HTTP %d", code)
	}
	if code := send(workerB); code != http.StatusUnauthorized {
		t.Fatalf("the same request to worker B: HTTP %d, want 401", code)
	}
	restarted := serve() // a worker started after A took the request
	if code := send(restarted); code != http.StatusUnauthorized {
		t.Fatalf("the same request after a restart: HTTP %d, want 401", code)
	}
	if code := send(workerA); code != http.StatusUnauthorized {
		t.Fatalf("the same request to worker A again: HTTP %d, want 401", code)
	}
	if n := signalCount(t, st.ID); n != 1 {
		t.Fatalf("%d signals reached the process, want exactly one", n)
	}
	if _, err := cli.Decide(ctx, st.ID, process.DecisionCancel, owner, "done"); err != nil {
		t.Logf("cancel: %v", err) // the requester's decline may already have ended it
	}
}
