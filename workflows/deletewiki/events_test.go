package deletewiki_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

// The outbox down for minutes (a database restart): the deletion goes on,
// and every change is stored once, in order, when it is back. (The test
// environment stops retrying after 10 attempts, where the server never
// stops; 9 failures are about two and a half minutes.)
func TestDeleteWikiAnnouncesThroughAnOutage(t *testing.T) {
	f := workflowtest.DeleteFarm()
	failures := 0
	f.Hook(activities.NameStoreEvents, func() error {
		if failures < 9 {
			failures++
			return errors.New("dial tcp 127.0.0.1:3306: connection refused")
		}
		return nil
	})
	env := newEnv(t, f)
	env.RegisterDelayedCallback(func() {
		workflowtest.Decide(env, "a1", process.DecisionApprove, "bob", "agreed")
	}, time.Hour)
	runDelete(env)
	st := workflowtest.EndStatus(t, env)
	if st.State != process.StateCompleted || failures != 9 {
		t.Fatalf("state %s after %d failed stores, want completed after 9", st.State, failures)
	}
	for i, ev := range f.Events {
		if ev.Process.Sequence != i+1 {
			t.Fatalf("event %d has sequence %d: a change was lost or stored twice", i+1, ev.Process.Sequence)
		}
	}
	if n := len(f.Events); n < 10 || f.Events[n-1].ChangeKind != events.KindState || f.Events[n-1].Process.State != "completed" {
		t.Fatalf("%d events, the last %+v; want the end announced", n, f.Events[n-1])
	}
}

// A deletion announces each change once, in the order it happened: the
// request, the approval, each phase and each step, and how it ended.
func TestDeleteWikiAnnouncesEveryChangeOnce(t *testing.T) {
	f := workflowtest.DeleteFarm()
	env := newEnv(t, f)
	env.RegisterDelayedCallback(func() {
		workflowtest.Decide(env, "a1", process.DecisionApprove, "bob", "agreed")
	}, time.Hour)
	runDelete(env)
	st := workflowtest.EndStatus(t, env)

	seen := map[string]bool{}
	var states []string
	stepState := map[string]string{}
	var decisions []events.ProcessChange
	for i, ev := range f.Events {
		if ev.Process.Sequence != i+1 {
			t.Errorf("event %d has sequence %d", i+1, ev.Process.Sequence)
		}
		if seen[ev.Meta.ID] {
			t.Errorf("id %s twice", ev.Meta.ID)
		}
		seen[ev.Meta.ID] = true
		if ev.Meta.ID != events.ID(st.ID, ev.Process.RunID, ev.Process.Sequence) {
			t.Errorf("event %d: id %s is not the one its run and sequence make", i+1, ev.Meta.ID)
		}
		if ev.Process.ID != st.ID || ev.Wiki.DB != workflowtest.Wiki || ev.Process.Kind != st.Kind {
			t.Errorf("event %d is about %s/%s on %s", i+1, ev.Process.Kind, ev.Process.ID, ev.Wiki.DB)
		}
		switch ev.ChangeKind {
		case events.KindState:
			prior := ""
			if ev.PriorState != nil {
				prior = ev.PriorState.State
			}
			if len(states) > 0 && prior != states[len(states)-1] || len(states) == 0 && prior != "" {
				t.Errorf("state event %d: prior %q after %v", i+1, prior, states)
			}
			states = append(states, ev.Process.State)
		case events.KindStep:
			if was := stepState[ev.Step.Name]; was != "" && was != ev.Step.PriorState {
				t.Errorf("step %s: prior %s, but it was %s", ev.Step.Name, ev.Step.PriorState, was)
			}
			stepState[ev.Step.Name] = ev.Step.State
		case events.KindDecision:
			decisions = append(decisions, ev)
		}
	}
	want := []string{"running", "waiting-approval", "grace-period", "running", "completed"}
	if !slices.Equal(states, want) {
		t.Errorf("states announced %v, want %v", states, want)
	}
	if len(decisions) != 1 || decisions[0].Performer.UserText != "bob" || !decisions[0].Decision.Accepted ||
		decisions[0].Decision.Decision != "approve" {
		t.Errorf("decisions announced %+v, want bob's accepted approval", decisions)
	}
	for _, s := range st.Steps {
		if stepState[s.Name] != string(s.State) {
			t.Errorf("step %s ended %s, last announced %q", s.Name, s.State, stepState[s.Name])
		}
	}
	if first := f.Events[0]; first.Performer == nil || first.Performer.UserText != st.Requester {
		t.Errorf("the first event names %+v, want the requester %s", first.Performer, st.Requester)
	}
}
