// Package events is the farm's lifecycle as a stream of events in the
// Wikimedia Event Platform's shape: the schema (schemas/, JSONSchema with
// $schema and meta), the event a process change makes, and its id.
//
// A process announces its changes itself (workflows.Announcer): it compares
// its status with the one it last announced and turns the difference into
// events, each with an id derived from the process run and the change's
// sequence in it. The same history makes the same events with the same ids,
// so an activity retried or a workflow replayed never makes a second fact.
package events

import (
	"embed"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/wikiflow/wikiflow/process"
)

// StreamProcessChange is the one stream WikiFlow emits.
const StreamProcessChange = "wikiflow.process.change"

// SchemaProcessChange is the $schema of the events of StreamProcessChange.
const SchemaProcessChange = "/wikiflow/process/change/1.0.0"

// Streams lists the streams served, each with its schema.
var Streams = map[string]string{StreamProcessChange: SchemaProcessChange}

// Schemas holds the JSONSchemas, at their $id's path under schemas/
// (/wikiflow/process/change/1.0.0 is schemas/wikiflow/process/change/1.0.0.json).
//
//go:embed schemas
var Schemas embed.FS

// SchemaFile is the path in Schemas of the schema with the $id uri.
func SchemaFile(uri string) string { return "schemas" + uri + ".json" }

// Change kinds.
const (
	KindState    = "state"
	KindStep     = "step"
	KindDecision = "decision"
	KindAction   = "action"
)

// ProcessChange is one event of StreamProcessChange. Its JSON is the
// schema's; nothing in it is private data beyond what Special:Processes
// shows the same readers (user names and central ids, comments).
type ProcessChange struct {
	Schema     string     `json:"$schema"`
	Meta       Meta       `json:"meta"`
	DT         string     `json:"dt"`
	ChangeKind string     `json:"change_kind"`
	Process    Process    `json:"process"`
	PriorState *Prior     `json:"prior_state,omitempty"`
	Wiki       Wiki       `json:"wiki"`
	Step       *Step      `json:"step,omitempty"`
	Decision   *Decision  `json:"decision,omitempty"`
	Action     *Action    `json:"action,omitempty"`
	Performer  *Performer `json:"performer,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	Error      string     `json:"error,omitempty"`
}

// Meta is the Event Platform's common meta. DT, Domain and URI are filled
// in when the event is stored.
type Meta struct {
	Stream string `json:"stream"`
	ID     string `json:"id"`
	DT     string `json:"dt"`
	Domain string `json:"domain,omitempty"`
	URI    string `json:"uri,omitempty"`
}

// Process is the process an event is about, as it is after the change.
type Process struct {
	ID        string     `json:"id"`
	Kind      string     `json:"kind"`
	RunID     string     `json:"run_id"`
	State     string     `json:"state"`
	Sequence  int        `json:"sequence"`
	Requester *Performer `json:"requester,omitempty"`
}

// Prior is the process's state before a state change.
type Prior struct {
	State string `json:"state"`
}

// Wiki is the wiki the process is about. IsPrivate is decided when the
// event is stored, from the farm's registration.
type Wiki struct {
	DB        string `json:"db"`
	IsPrivate bool   `json:"is_private"`
}

// Step is a step's change.
type Step struct {
	Name       string `json:"name"`
	State      string `json:"state"`
	PriorState string `json:"prior_state"`
	Critical   bool   `json:"critical"`
	Attempt    int    `json:"attempt"`
	Undone     bool   `json:"undone,omitempty"`
}

// Decision is a decision sent to a process's approval gate.
type Decision struct {
	Decision string `json:"decision"`
	Accepted bool   `json:"accepted"`
	Override bool   `json:"override,omitempty"`
}

// Action is an action a person asked of a process.
type Action struct {
	Name     string `json:"name"`
	Step     string `json:"step,omitempty"`
	Accepted bool   `json:"accepted"`
}

// Performer is a person, as MediaWiki named them.
type Performer struct {
	UserText      string `json:"user_text"`
	UserCentralID int    `json:"user_central_id,omitempty"`
}

// namespace makes the ids: a UUID of its own, so that WikiFlow's ids never
// collide with another producer's name-based UUIDs.
var namespace = uuid.MustParse("6f1d3c1e-5a8b-4f0e-9c57-3b8f0d5e2a41")

// ID is the id of the seq-th change of a process run: a name-based UUID
// (version 5), the same every time it is computed.
func ID(processID, runID string, seq int) string {
	return uuid.NewSHA1(namespace, fmt.Appendf(nil, "%s\x00%s\x00%d", processID, runID, seq)).String()
}

// FormatTime is the events' time format: ISO 8601 in UTC, milliseconds.
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Run names the process run the changes belong to.
type Run struct {
	ProcessID string
	RunID     string
}

// Changes are the events that take a process from prev to cur, in the
// order a reader needs them: decisions and actions first (they cause the
// rest), then steps in definition order, then the process's state. next is
// the sequence of the first one; at is when they happened. An empty prev
// (no ID) is a process being seen for the first time: its state is
// announced, its pending steps are not.
func Changes(run Run, prev, cur *process.Status, next int, at time.Time) []ProcessChange {
	var out []ProcessChange
	add := func(kind string, fill func(*ProcessChange)) {
		ev := ProcessChange{
			Schema:     SchemaProcessChange,
			Meta:       Meta{Stream: StreamProcessChange, ID: ID(run.ProcessID, run.RunID, next)},
			DT:         FormatTime(at),
			ChangeKind: kind,
			Process: Process{ID: cur.ID, Kind: cur.Kind, RunID: run.RunID, State: string(cur.State),
				Sequence: next, Requester: person(cur.Requester, cur.RequesterID)},
			Wiki: Wiki{DB: cur.Wiki},
		}
		fill(&ev)
		out = append(out, ev)
		next++
	}
	for _, a := range cur.Approvals[min(len(prev.Approvals), len(cur.Approvals)):] {
		add(KindDecision, func(ev *ProcessChange) {
			ev.Decision = &Decision{Decision: string(a.Decision), Accepted: a.Accepted, Override: a.Override}
			ev.Performer = person(a.User, a.UserID)
			ev.Reason = firstOf(a.Reason, a.Comment)
		})
	}
	for _, a := range cur.Actions[min(len(prev.Actions), len(cur.Actions)):] {
		add(KindAction, func(ev *ProcessChange) {
			ev.Action = &Action{Name: a.Action, Step: a.Step, Accepted: a.Accepted}
			ev.Performer = person(a.User, 0)
			ev.Reason = a.Reason
		})
	}
	for _, s := range cur.Steps {
		before := process.StepPending
		if p := prev.Step(s.Name); p != nil {
			before = p.State
		}
		if s.State == before {
			continue
		}
		attempt := s.Attempts
		if s.State == process.StepRunning {
			attempt++ // the status counts the attempts that ended
		}
		add(KindStep, func(ev *ProcessChange) {
			ev.Step = &Step{Name: s.Name, State: string(s.State), PriorState: string(before),
				Critical: s.Critical, Attempt: attempt, Undone: s.Undone}
			ev.Error = s.Error
		})
	}
	if cur.State != prev.State {
		add(KindState, func(ev *ProcessChange) {
			if prev.ID != "" {
				ev.PriorState = &Prior{State: string(prev.State)}
			} else {
				ev.Performer = ev.Process.Requester
			}
			if cur.State == process.StateFailed || cur.State == process.StateRefused {
				ev.Error = cur.Result[process.ResultError]
			}
		})
	}
	return out
}

// Snapshot is a copy of st that later changes to st do not touch.
func Snapshot(st *process.Status) process.Status {
	c := *st
	c.Steps = append([]process.StepStatus(nil), st.Steps...)
	c.Actions = append([]process.ActionRecord(nil), st.Actions...)
	c.Approvals = append([]process.ApprovalRecord(nil), st.Approvals...)
	c.Result = nil // not announced; the map is shared
	return c
}

func person(name string, id int) *Performer {
	if name == "" {
		return nil
	}
	return &Performer{UserText: name, UserCentralID: max(id, 0)}
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
