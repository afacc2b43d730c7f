package client

import (
	"errors"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"

	"github.com/wikiflow/wikiflow/process"
)

// Visibility queries are built only from checked values: input that would
// change the query's shape is refused, never pasted.
func TestListQueryRefusesInjection(t *testing.T) {
	q, err := ListQuery(ListFilter{Wiki: "demowiki", Kind: "delete-wiki", State: "waiting-approval"})
	if err != nil {
		t.Fatal(err)
	}
	if q != "WikiDB = 'demowiki' AND ProcessKind = 'delete-wiki' AND ProcessState = 'waiting-approval'" {
		t.Fatalf("query: %s", q)
	}
	for _, f := range []ListFilter{
		{Wiki: "x' OR WikiDB != 'y"},
		{Kind: "create-wiki' OR 1=1 OR '"},
		{State: "running OR true"},
	} {
		if q, err := ListQuery(f); err == nil {
			t.Errorf("%+v accepted as %s", f, q)
		}
	}
	if q, _ := ListQuery(ListFilter{}); !strings.Contains(q, "ProcessKind IS NOT NULL") {
		t.Fatalf("empty filter: %s", q)
	}
	if q, _ := ListQuery(ListFilter{Kind: "delete-wiki", State: "waiting-approval", Open: true}); q != "ProcessKind = 'delete-wiki' AND ProcessState = 'waiting-approval' AND ExecutionStatus = 'Running'" {
		t.Fatalf("open filter: %s", q)
	}
}

func TestCheckID(t *testing.T) {
	for _, ok := range []string{"create-wiki:demowiki", "change-setting:demowiki:wgMaxArticleSize", "request-wiki:newwiki"} {
		if err := CheckID(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "demowiki", "create-wiki:Demo", "create-wiki:x;drop", "create-wiki:a/../b", "x:y:z:w"} {
		if err := CheckID(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestKnownActions(t *testing.T) {
	for _, a := range []string{"approve", "decline", "cancel", "undelete", "hold", "more-details", "edit-request", "retry", "abort", "reopen"} {
		if !KnownAction(a) {
			t.Errorf("%s unknown", a)
		}
	}
	if KnownAction("promote") {
		t.Error("promote known")
	}
}

// Every kind's table, as its workflow registers signals and updates, and
// CheckAction refusing the rest before anything is sent.
func TestSupportedActions(t *testing.T) {
	want := map[string]string{
		"create-wiki":       "retry,abort",
		"delete-wiki":       "approve,decline,cancel,undelete,retry,abort",
		"change-setting":    "approve,decline,cancel,retry,abort",
		"request-wiki":      "approve,decline,cancel,hold,more-details,edit-request",
		"restore-wiki":      "approve,decline,cancel,retry,abort",
		"inactivity":        "reopen",
		"enable-extension":  "approve,decline,cancel,retry,abort",
		"disable-extension": "approve,decline,cancel,retry,abort",
		"rename-wiki":       "approve,decline,cancel,retry,abort",
	}
	for _, kind := range Kinds {
		got := strings.Join(SupportedActions(kind), ",")
		if got != want[kind] {
			t.Errorf("%s takes %s, want %s", kind, got, want[kind])
		}
		for _, a := range SupportedActions(kind) {
			if !KnownAction(a) {
				t.Errorf("%s takes %s, which Send cannot send", kind, a)
			}
		}
	}
	if SupportedActions("merge-wikis") != nil {
		t.Error("a kind that does not exist takes actions")
	}
	SupportedActions("create-wiki")[0] = "approve"
	if SupportedActions("create-wiki")[0] != "retry" {
		t.Error("the table can be changed through its copy")
	}

	for _, ok := range [][2]string{{"create-wiki:demowiki", "retry"}, {"delete-wiki:demowiki", "undelete"},
		{"change-setting:demowiki:wgMaxArticleSize", "approve"}, {"request-wiki:newwiki", "edit-request"}} {
		if err := CheckAction(ok[0], ok[1]); err != nil {
			t.Errorf("%s to %s refused: %v", ok[1], ok[0], err)
		}
	}
	var unsupported *UnsupportedActionError
	for _, bad := range [][2]string{{"create-wiki:demowiki", "approve"}, {"delete-wiki:demowiki", "hold"},
		{"change-setting:demowiki:wgLogos", "undelete"}, {"request-wiki:newwiki", "retry"}, {"create-wiki:demowiki", "edit-request"}} {
		err := CheckAction(bad[0], bad[1])
		if !errors.As(err, &unsupported) || unsupported.Kind != KindOf(bad[0]) || !strings.Contains(err.Error(), "nothing was sent") {
			t.Errorf("%s to %s: %v", bad[1], bad[0], err)
		}
	}
	var invalid *InvalidError
	if err := CheckAction("create-wiki:Demo", "retry"); !errors.As(err, &invalid) {
		t.Errorf("an invalid ID: %v", err)
	}
	if err := CheckAction("create-wiki:demowiki", "promote"); !errors.As(err, &invalid) {
		t.Errorf("an unknown action: %v", err)
	}
	if err := CheckAction("merge-wikis:demowiki", "approve"); !errors.Is(err, ErrNoProcess) {
		t.Errorf("a kind that does not exist: %v", err)
	}
	// Invalid input is its own type: not a usage error (exit 2 in the CLI).
	var usage *UsageError
	if err := ValidateDBName("Demo;wiki"); !errors.As(err, &invalid) || errors.As(err, &usage) {
		t.Errorf("an invalid name: %T %v", err, err)
	}
}

// A workflow that runs while its process state is an ended one only stores
// its last events: a start may wait for it and an owner claim may pass on.
func TestClosingIsAnEndedProcessStillOpen(t *testing.T) {
	info := func(status enumspb.WorkflowExecutionStatus, state string) *workflowpb.WorkflowExecutionInfo {
		p, err := converter.GetDefaultDataConverter().ToPayload(state)
		if err != nil {
			t.Fatal(err)
		}
		return &workflowpb.WorkflowExecutionInfo{Status: status,
			SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{process.AttrProcessState: p}}}
	}
	running, closed := enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	for _, c := range []struct {
		info *workflowpb.WorkflowExecutionInfo
		want bool
	}{
		{info(running, "completed"), true},
		{info(running, "refused"), true},
		{info(running, "running"), false},
		{info(running, "waiting-approval"), false},
		{info(running, ""), false}, // recorded before the state was a search attribute: open
		{info(closed, "completed"), false},
	} {
		if got := Closing(c.info); got != c.want {
			t.Errorf("Closing(%s, %q) = %v, want %v", c.info.Status, c.info.SearchAttributes.IndexedFields[process.AttrProcessState].Data, got, c.want)
		}
	}
}
