//go:build integration

package integration

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// allActions is every action the endpoint knows.
var allActions = []string{client.ActionApprove, client.ActionDecline, client.ActionCancel, client.ActionUndelete,
	client.ActionHold, client.ActionMoreDetails, client.ActionEditRequest, client.ActionRetry, client.ActionAbort}

// messageCount counts what reached a workflow from outside: signals and
// accepted updates.
func messageCount(t *testing.T, id string) int {
	t.Helper()
	return historyCount(t, id, enums.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
		enums.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED)
}

// fingerprint is what a refused action must leave as it was.
func fingerprint(t *testing.T, id string) string {
	t.Helper()
	st, err := cli.Status(testContext(t, time.Minute), id)
	if err != nil {
		t.Fatalf("status of %s: %v", id, err)
	}
	b, _ := json.Marshal(struct {
		State     string
		Steps     []process.StepStatus
		Actions   []process.ActionRecord
		Approvals []process.ApprovalRecord
	}{string(st.State), st.Steps, st.Actions, st.Approvals})
	return string(b)
}

// openProcesses starts one open process of every kind: a creation whose
// farm step failed (needs-attention), a restricted setting change and a
// deletion waiting for approval, and a wiki request waiting for review.
// They are withdrawn or aborted when the test ends.
func openProcesses(t *testing.T) map[string]string {
	t.Helper()
	ctx := testContext(t, 3*time.Minute)
	failing := failingCreations()
	creator := newUser(t, "Creator", "wikicreator")
	requester := newUser(t, "Requester")
	createID, err := failing.CreateWiki(ctx, client.CreateWikiRequest{
		Wiki: process.WikiSpec{DB: uniqueDB("refcreate"), Sitename: "Refusals", Language: "en"}, Requester: requester,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = cli.Abort(testContext(t, time.Minute), createID, creator, "test over") })

	db, owner := liveWiki(t, "refusal")
	st, err := cli.ChangeSetting(ctx, db, "wgMaxArticleSize", "2000", owner, "restricted, waits")
	if err != nil {
		t.Fatal(err)
	}
	settingID := st.ID
	t.Cleanup(func() { _, _ = cli.Decide(testContext(t, time.Minute), settingID, process.DecisionCancel, owner, "") })
	st, err = cli.DeleteWiki(ctx, db, owner, "waits for a steward")
	if err != nil {
		t.Fatal(err)
	}
	deleteID := st.ID
	t.Cleanup(func() { _, _ = cli.Decide(testContext(t, time.Minute), deleteID, process.DecisionCancel, owner, "") })

	asker := newUser(t, "Asker")
	st, err = cli.RequestWiki(ctx, client.CreateWikiRequest{
		Wiki:      process.WikiSpec{DB: uniqueDB("refreq"), Sitename: "Refused Actions", Language: "en", Category: "uncategorised"},
		Requester: asker,
	}, "a wiki to refuse actions on")
	if err != nil {
		t.Fatal(err)
	}
	requestID := st.ID
	t.Cleanup(func() { _, _ = cli.Decide(testContext(t, time.Minute), requestID, process.DecisionCancel, asker, "") })

	waitFor(t, failing, createID, 2*time.Minute, process.StateNeedsAttention)
	waitSettled(t, failing, createID)
	waitFor(t, cli, settingID, time.Minute, process.StateWaitingApproval)
	waitFor(t, cli, deleteID, time.Minute, process.StateWaitingApproval)
	waitFor(t, cli, requestID, time.Minute, process.StateWaitingApproval)
	return map[string]string{
		createwiki.KindCreateWiki: createID, changesetting.KindChangeSetting: settingID,
		deletewiki.KindDeleteWiki: deleteID, requestwiki.KindRequestWiki: requestID,
		"creator": creator, "owner": owner, "asker": asker,
	}
}

// Every action a process's kind never takes is refused by the endpoint
// with 409 unsupported_action, and nothing reaches the process: no signal
// in its history, its status as it was. An action it takes still goes
// through.
func TestHookRefusesUnsupportedActions(t *testing.T) {
	open := openProcesses(t)
	for _, kind := range client.Kinds {
		id := open[kind]
		if id == "" {
			continue // a restore needs a deleted wiki's backup: restore_test.go covers its actions
		}
		before, messages := fingerprint(t, id), messageCount(t, id)
		refused := 0
		for _, action := range allActions {
			if slices.Contains(client.SupportedActions(kind), action) {
				continue
			}
			refused++
			code, out := signedCall("POST", "/v1/processes/"+id+"/actions",
				map[string]string{"action": action, "user": open["creator"], "comment": "c", "step": "schema"}).do(t)
			msg := fmt.Sprint(out["error"])
			if code != 409 || errorCode(out) != "unsupported_action" || !strings.Contains(msg, kind) || !strings.Contains(msg, action) {
				t.Errorf("%s to %s: want 409 unsupported_action naming both, got %d %v", action, id, code, out)
			}
		}
		if refused == 0 {
			t.Fatalf("%s takes every action: nothing to refuse", kind)
		}
		// A stray signal would change the status only once the workflow
		// ran it: give it that time.
		time.Sleep(time.Second)
		if n := messageCount(t, id); n != messages {
			t.Errorf("%s: %d refused actions left %d messages in the history", id, refused, n-messages)
		}
		if after := fingerprint(t, id); after != before {
			t.Errorf("%s changed after refused actions:\nbefore %s\nafter  %s", id, before, after)
		}
	}

	// The contrast: an action the kind takes is sent (and recorded).
	id := open[requestwiki.KindRequestWiki]
	messages := messageCount(t, id)
	if code, out := signedCall("POST", "/v1/processes/"+id+"/actions",
		map[string]string{"action": client.ActionCancel, "user": open["asker"]}).do(t); code != 202 {
		t.Fatalf("withdrawing the request: %d %v", code, out)
	}
	waitFor(t, cli, id, time.Minute, process.StateCancelled)
	if n := messageCount(t, id); n != messages+1 {
		t.Fatalf("want one signal for the accepted action, got %d", n-messages)
	}
}
