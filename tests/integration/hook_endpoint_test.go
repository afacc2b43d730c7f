//go:build integration

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"

	"github.com/wikiflow/wikiflow/hook"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/signing"
)

// hookCall is one request to the hook endpoint, signed (or not) as given.
type hookCall struct {
	method, path string
	signedPath   string // when set, the path the signature was made for
	body         []byte
	timestamp    int64
	secret       []byte // nil: no signature headers at all
	signature    string // when set, sent instead of the one made with secret
	base         string // when set, the endpoint's URL instead of the shared one
}

func signedCall(method, path string, body any) hookCall {
	b, _ := json.Marshal(body)
	if body == nil {
		b = nil
	}
	return hookCall{method: method, path: path, body: b, timestamp: time.Now().Unix(), secret: hookSecret()}
}

func hookSecret() []byte {
	s, _ := deps.Config.HookSecret()
	return s
}

// do sends the call and returns the status code and the decoded answer.
func (h hookCall) do(t *testing.T) (int, map[string]any) {
	t.Helper()
	base := h.base
	if base == "" {
		base = "http://" + deps.Config.Hook.Address
	}
	req, _ := http.NewRequest(h.method, base+h.path, bytes.NewReader(h.body))
	if h.secret != nil {
		req.Header.Set(signing.HeaderTimestamp, strconv.FormatInt(h.timestamp, 10))
		signature := h.signature
		if signature == "" {
			signed := h.path
			if h.signedPath != "" {
				signed = h.signedPath
			}
			signature = signing.Sign(h.secret, h.timestamp, h.method, signed, h.body)
		}
		req.Header.Set(signing.HeaderSignature, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func errorCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// historyCount counts the events of a workflow's history that are of one of types.
func historyCount(t *testing.T, id string, types ...enums.EventType) int {
	t.Helper()
	iter := deps.Temporal.GetWorkflowHistory(testContext(t, time.Minute), id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(types, ev.GetEventType()) {
			n++
		}
	}
	return n
}

// signalCount counts the signals in a workflow's history.
func signalCount(t *testing.T, id string) int {
	t.Helper()
	return historyCount(t, id, enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)
}

// waitingChange makes a wiki and asks for a restricted setting change on
// it, which waits for a steward's approval: the wiki, its owner and the
// change's process ID.
func waitingChange(t *testing.T, prefix, comment string) (db, owner, id string) {
	t.Helper()
	db, owner = liveWiki(t, prefix)
	st, err := cli.ChangeSetting(testContext(t, time.Minute), db, "wgMaxArticleSize", "2000", owner, comment)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, cli, st.ID, time.Minute, process.StateWaitingApproval)
	return db, owner, st.ID
}

// Every refusal of the endpoint: nothing reaches the process.
func TestHookRefusesForgedStaleReplayedOversizedMalformed(t *testing.T) {
	_, owner, id := waitingChange(t, "hook", "test")
	path := "/v1/processes/" + id + "/actions"
	approve := map[string]string{"action": "approve", "user": owner}

	forged := signedCall("POST", path, approve)
	forged.secret = []byte("not-the-secret-at-all")
	unsigned := signedCall("POST", path, approve)
	unsigned.secret = nil
	stale := signedCall("POST", path, approve)
	stale.timestamp -= 600
	future := signedCall("POST", path, approve)
	future.timestamp += 600
	oversized := signedCall("POST", path, map[string]string{"action": "approve", "user": owner, "comment": strings.Repeat("x", hook.MaxBody)})
	tampered := signedCall("POST", "/v1/processes/"+id+"/actions?x=1", approve)
	tampered.signedPath = path // a valid signature, for another path
	for _, tc := range []struct {
		name string
		call hookCall
		code int
		err  string
	}{
		{"unsigned", unsigned, 401, "unauthorized"},
		{"forged", forged, 401, "unauthorized"},
		{"stale", stale, 401, "unauthorized"},
		{"from the future", future, 401, "unauthorized"},
		{"oversized", oversized, 413, "body_too_large"},
		{"malformed", hookCall{method: "POST", path: path, body: []byte(`{"action": "approve", `), timestamp: time.Now().Unix(), secret: hookSecret()}, 400, "malformed_json"},
		{"unknown field", signedCall("POST", path, map[string]string{"action": "approve", "user": owner, "admin": "yes"}), 400, "malformed_json"},
		{"unknown action", signedCall("POST", path, map[string]string{"action": "promote", "user": owner}), 400, "unknown_action"},
		{"unknown process", signedCall("POST", "/v1/processes/delete-wiki:nosuchwiki/actions", approve), 404, "unknown_process"},
		{"unknown endpoint", signedCall("GET", "/v1/secrets", nil), 404, "not_found"},
	} {
		code, out := tc.call.do(t)
		if code != tc.code || errorCode(out) != tc.err {
			t.Errorf("%s: want %d %s, got %d %v", tc.name, tc.code, tc.err, code, out)
		}
	}
	if code, _ := tampered.do(t); code != 401 {
		t.Errorf("a signature for another path was accepted: %d", code)
	}
	if n := signalCount(t, id); n != 0 {
		t.Fatalf("refused requests reached the process: %d signals", n)
	}

	// A valid request is taken once; the same request again is a replay.
	steward := newUser(t, "Steward", "steward")
	valid := signedCall("POST", path, map[string]string{"action": "approve", "user": steward, "comment": "ok"})
	if code, out := valid.do(t); code != 202 {
		t.Fatalf("valid approve: %d %v", code, out)
	}
	if code, out := valid.do(t); code != 401 || errorCode(out) != "unauthorized" {
		t.Fatalf("replayed approve: %d %v", code, out)
	}
	if n := signalCount(t, id); n != 1 {
		t.Fatalf("want exactly one signal after a valid request and its replay, got %d", n)
	}
	st := waitFor(t, cli, id, time.Minute, process.StateCompleted)
	if a := lastApproval(st); a.User != steward || !a.Accepted {
		t.Fatalf("the approval through the hook: %+v", a)
	}
}

// The endpoint starts processes, reads them back and carries decisions; the
// process, not the signature, decides whether the user may act.
func TestHookStartsAndSignalsProcesses(t *testing.T) {
	db, owner := liveWiki(t, "hooked")
	b1 := bureaucrat(t, db)
	plain := newUser(t, "Plain")

	code, out := signedCall("POST", "/v1/processes/delete-wiki", map[string]string{"wiki": db, "user": owner, "reason": "via the hook"}).do(t)
	if code != 202 || out["id"] != "delete-wiki:"+db {
		t.Fatalf("start a deletion: %d %v", code, out)
	}
	id := out["id"].(string)
	waitFor(t, cli, id, time.Minute, process.StateWaitingApproval)
	code, out = signedCall("POST", "/v1/processes/delete-wiki", map[string]string{"wiki": db, "user": owner, "reason": "again"}).do(t)
	if code != 409 || errorCode(out) != "refused" {
		t.Fatalf("a second deletion of the same wiki: %d %v", code, out)
	}

	for _, u := range []string{plain, b1} {
		if code, out := signedCall("POST", "/v1/processes/"+id+"/actions", map[string]string{"action": "approve", "user": u}).do(t); code != 202 {
			t.Fatalf("approve by %s: %d %v", u, code, out)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	var st map[string]any
	for time.Now().Before(deadline) {
		_, st = signedCall("GET", "/v1/processes/"+id, nil).do(t)
		if approvals, _ := st["approvals"].([]any); len(approvals) == 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	approvals, _ := st["approvals"].([]any)
	if len(approvals) != 2 {
		t.Fatalf("status through the hook: %v", st)
	}
	first, second := approvals[0].(map[string]any), approvals[1].(map[string]any)
	if first["user"] != plain || first["accepted"] != false || first["reason"] == "" {
		t.Fatalf("the plain user's approval should be refused with a reason: %v", first)
	}
	if second["user"] != b1 || second["accepted"] != true {
		t.Fatalf("the bureaucrat's approval should be accepted: %v", second)
	}
	if !strings.Contains(fmt.Sprint(st["ui_url"]), "/workflows/"+strings.ReplaceAll(id, ":", "%3A")) &&
		!strings.Contains(fmt.Sprint(st["ui_url"]), "/workflows/"+id) {
		t.Fatalf("ui_url: %v", st["ui_url"])
	}
	_, list := signedCall("GET", "/v1/processes?wiki="+db, nil).do(t)
	if items, _ := list["processes"].([]any); len(items) < 2 { // its creation and its deletion
		t.Fatalf("list for %s: %v", db, list)
	}
	code, out = signedCall("POST", "/v1/processes/change-setting", map[string]any{"wiki": db, "setting": "wgMaxArticleSize", "value": 999999, "user": owner}).do(t)
	if code != 400 || errorCode(out) != "invalid_request" {
		t.Fatalf("an out-of-range value through the hook: %d %v", code, out)
	}
	if code, out := signedCall("GET", "/v1/settings", nil).do(t); code != 200 || out["settings"] == nil {
		t.Fatalf("settings: %d %v", code, out)
	}
	// One other bureaucrat: the quorum was one, so the wiki is in its grace
	// period; the requester undeletes it through the hook.
	waitFor(t, cli, id, time.Minute, process.StateGracePeriod)
	if code, out := signedCall("POST", "/v1/processes/"+id+"/actions", map[string]string{"action": "undelete", "user": owner}).do(t); code != 202 {
		t.Fatalf("undelete: %d %v", code, out)
	}
	waitFor(t, cli, id, time.Minute, process.StateCancelled)
	if _, err := deps.API.SiteInfo(testContext(t, time.Minute), db); err != nil {
		t.Fatalf("the undeleted wiki does not answer: %v", err)
	}
}
