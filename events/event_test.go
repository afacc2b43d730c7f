package events

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/process"
)

var run = Run{ProcessID: "delete-wiki:testwiki", RunID: "3f1c"}

func status(state process.State, steps ...process.StepStatus) *process.Status {
	return &process.Status{ID: run.ProcessID, Kind: "delete-wiki", State: state, Wiki: "testwiki",
		Requester: "Alice", RequesterID: 7, Steps: steps, Result: map[string]string{}}
}

// Every change kind, stored as the outbox stores it, is valid against the
// schema, formats included.
func TestChangesAreValidEvents(t *testing.T) {
	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	prev := status(process.StateWaitingApproval, process.StepStatus{Name: "close", State: process.StepPending, Critical: true})
	cur := status(process.StateFailed, process.StepStatus{Name: "close", State: process.StepFailed, Critical: true, Attempts: 3, Error: "boom"})
	cur.Approvals = []process.ApprovalRecord{{User: "Bob", UserID: 9, Decision: process.DecisionApprove, Accepted: true, Comment: "ok"}}
	cur.Actions = []process.ActionRecord{{User: "Carol", Action: process.ActionRetry, Step: "close", Reason: "not allowed"}}
	cur.Result[process.ResultError] = "close failed"
	evs := append(Changes(run, &process.Status{}, prev, 1, at), Changes(run, prev, cur, 2, at)...)
	var kinds []string
	for _, ev := range evs {
		kinds = append(kinds, ev.ChangeKind)
		ev.Meta.DT, ev.Meta.Domain, ev.Meta.URI = FormatTime(at), "test.localhost", "http://meta.localhost:8080/index.php?title=Special:Processes/x"
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := Validate(body); err != nil {
			t.Errorf("%s event invalid: %v\n%s", ev.ChangeKind, err, body)
		}
	}
	if want := []string{KindState, KindDecision, KindAction, KindStep, KindState}; !slices.Equal(kinds, want) {
		t.Errorf("kinds %v, want %v", kinds, want)
	}
	if evs[4].PriorState == nil || evs[4].PriorState.State != "waiting-approval" || evs[4].Error != "close failed" {
		t.Errorf("the end: %+v", evs[4])
	}
	if evs[0].Performer == nil || evs[0].Performer.UserCentralID != 7 {
		t.Errorf("the first event's performer %+v, want the requester", evs[0].Performer)
	}
}

// The schema refuses what a consumer must never get: no id, a wrong kind,
// a time that is not one.
func TestSchemaRefusesBrokenEvents(t *testing.T) {
	ev := Changes(run, &process.Status{}, status(process.StateRunning), 1, time.Now())[0]
	ev.Meta.DT = FormatTime(time.Now())
	good, _ := json.Marshal(ev)
	if err := Validate(good); err != nil {
		t.Fatalf("a good event is refused: %v", err)
	}
	for name, breakIt := range map[string]func(m map[string]any){
		"no id":       func(m map[string]any) { delete(m["meta"].(map[string]any), "id") },
		"wrong kind":  func(m map[string]any) { m["change_kind"] = "deleted" },
		"not a time":  func(m map[string]any) { m["dt"] = "yesterday" },
		"no wiki":     func(m map[string]any) { delete(m, "wiki") },
		"string step": func(m map[string]any) { m["step"] = "close" },
	} {
		var m map[string]any
		_ = json.Unmarshal(good, &m)
		breakIt(m)
		body, _ := json.Marshal(m)
		if Validate(body) == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The same change always gets the same id; another run or sequence another.
func TestIDIsStable(t *testing.T) {
	a, b := ID("p", "r", 1), ID("p", "r", 1)
	if a != b || a == ID("p", "r", 2) || a == ID("p", "r2", 1) || a == ID("p2", "r", 1) {
		t.Errorf("ids %s %s %s", a, b, ID("p", "r", 2))
	}
}

// The Go types and the schema name the same properties: nothing is sent
// that the schema does not describe.
func TestTypesMatchSchema(t *testing.T) {
	data, err := Schemas.ReadFile(SchemaFile(SchemaProcessChange))
	if err != nil {
		t.Fatal(err)
	}
	var sch map[string]any
	if err := json.Unmarshal(data, &sch); err != nil {
		t.Fatal(err)
	}
	var check func(path string, typ reflect.Type, node map[string]any)
	check = func(path string, typ reflect.Type, node map[string]any) {
		if ref, ok := node["$ref"].(string); ok {
			node = sch["definitions"].(map[string]any)[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any)
		}
		props, _ := node["properties"].(map[string]any)
		var names []string
		for i := range typ.NumField() {
			f := typ.Field(i)
			name := strings.Split(f.Tag.Get("json"), ",")[0]
			names = append(names, name)
			p, ok := props[name].(map[string]any)
			if !ok {
				t.Errorf("%s%s is not in the schema", path, name)
				continue
			}
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				check(path+name+".", ft, p)
			}
		}
		for name := range props {
			if !slices.Contains(names, name) && name != "request_id" {
				t.Errorf("%s%s is in the schema but never sent", path, name)
			}
		}
	}
	check("", reflect.TypeFor[ProcessChange](), sch)
}
