package main

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/events"
)

func TestEventLine(t *testing.T) {
	base := events.ProcessChange{Schema: events.SchemaProcessChange, DT: "2026-12-05T10:00:01.123Z",
		Process: events.Process{ID: "create-wiki:foowiki", Kind: "create-wiki", State: "running"}, Wiki: events.Wiki{DB: "foowiki"}}
	line := func(fill func(*events.ProcessChange)) string {
		ev := base
		fill(&ev)
		b, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		return EventLine(b)
	}
	cases := []struct {
		name string
		fill func(*events.ProcessChange)
		want string
	}{
		{"step", func(ev *events.ProcessChange) {
			ev.ChangeKind = events.KindStep
			ev.Step = &events.Step{Name: "schema", State: "succeeded", PriorState: "running", Attempt: 1}
		}, "2026-12-05T10:00:01.123Z  create-wiki:foowiki  foowiki  step schema running→succeeded (attempt 1)"},
		{"failed step", func(ev *events.ProcessChange) {
			ev.ChangeKind = events.KindStep
			ev.Step = &events.Step{Name: "schema", State: "failed", PriorState: "running", Attempt: 3}
			ev.Error = "table exists\n  at line 2"
		}, "2026-12-05T10:00:01.123Z  create-wiki:foowiki  foowiki  step schema running→failed (attempt 3) error: table exists at line 2"},
		{"state", func(ev *events.ProcessChange) {
			ev.ChangeKind = events.KindState
			ev.Process.State = "approved"
			ev.PriorState = &events.Prior{State: "waiting-approval"}
		}, "2026-12-05T10:00:01.123Z  create-wiki:foowiki  foowiki  state waiting-approval→approved"},
		{"first state", func(ev *events.ProcessChange) {
			ev.ChangeKind = events.KindState
			ev.Performer = &events.Performer{UserText: "Alice"}
		}, "2026-12-05T10:00:01.123Z  create-wiki:foowiki  foowiki  state running (create-wiki started) by Alice"},
		{"decision", func(ev *events.ProcessChange) {
			ev.ChangeKind = events.KindDecision
			ev.Decision = &events.Decision{Decision: "approve", Accepted: true}
			ev.Performer = &events.Performer{UserText: "Bob", UserCentralID: 7}
			ev.Reason = "looks fine"
			ev.Wiki.IsPrivate = true
		}, `2026-12-05T10:00:01.123Z  create-wiki:foowiki  foowiki  decision approve accepted by Bob: "looks fine"  [private wiki]`},
		{"action", func(ev *events.ProcessChange) {
			ev.ChangeKind = events.KindAction
			ev.Action = &events.Action{Name: "retry", Step: "schema"}
			ev.Performer = &events.Performer{UserText: "Carol"}
		}, "2026-12-05T10:00:01.123Z  create-wiki:foowiki  foowiki  action retry on schema refused by Carol"},
	}
	for _, tc := range cases {
		if got := line(tc.fill); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	if got := EventLine([]byte(`{"other":1}`)); got != `{"other":1}` {
		t.Errorf("not an event: %s", got)
	}
}

func TestEventsStart(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	if s, err := eventsStart(false, "", false, 0, false, now); err != nil || !s.Since.Equal(now.Add(-24*time.Hour)) || s.HasLastID {
		t.Errorf("default: %+v %v", s, err)
	}
	if s, err := eventsStart(false, "", false, 0, true, now); err != nil || !s.Since.IsZero() || s.HasLastID {
		t.Errorf("follow: %+v %v", s, err)
	}
	if s, err := eventsStart(false, "", true, 0, false, now); err != nil || !s.HasLastID || s.LastID != 0 {
		t.Errorf("--last-event-id 0: %+v %v", s, err)
	}
	if s, err := eventsStart(true, "1796464800000", false, 0, true, now); err != nil || s.Since.UnixMilli() != 1796464800000 {
		t.Errorf("--since ms: %+v %v", s, err)
	}
	for _, tc := range []struct {
		hasSince  bool
		since     string
		hasLastID bool
		lastID    int64
		code      int
	}{{true, "yesterday", false, 0, exitFailed}, {true, "", false, 0, exitFailed}, {false, "", true, -1, exitFailed}, {true, "1", true, 1, exitUsage}} {
		_, err := eventsStart(tc.hasSince, tc.since, tc.hasLastID, tc.lastID, false, now)
		var ce *codeError
		if !errors.As(err, &ce) || ce.code != tc.code {
			t.Errorf("%+v: %v", tc, err)
		}
	}
}

func TestStreamBase(t *testing.T) {
	for in, want := range map[string]string{"127.0.0.1:8092": "http://127.0.0.1:8092", ":8092": "http://127.0.0.1:8092",
		"0.0.0.0:8092": "http://127.0.0.1:8092", "[::]:8092": "http://[::1]:8092", "worker1.internal:8092": "http://worker1.internal:8092"} {
		if got, err := streamBase(in); err != nil || got != want {
			t.Errorf("streamBase(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "nohost"} {
		if _, err := streamBase(in); err == nil {
			t.Errorf("streamBase(%q) accepted", in)
		}
	}
}
