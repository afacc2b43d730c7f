package workflows_test

import (
	"testing"
	"time"

	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/workflowtest"
)

// wantNumbered checks that evs are numbered 1..n, each once, and that the
// last says how the process ended.
func wantNumbered(t *testing.T, evs []events.ProcessChange, end process.State) {
	t.Helper()
	for i, ev := range evs {
		if ev.Process.Sequence != i+1 {
			t.Fatalf("event %d has sequence %d: a change was lost or stored twice", i+1, ev.Process.Sequence)
		}
	}
	if n := len(evs); n == 0 || evs[n-1].ChangeKind != events.KindState || evs[n-1].Process.State != string(end) {
		t.Fatalf("%d events; want the last to announce the end, %s", n, end)
	}
}

// A process shorter than the event window stores its changes once, when
// it ends: one activity beside it, not one per step.
func TestShortProcessStoresItsEventsOnce(t *testing.T) {
	f := engineFarm()
	def := definition(time.Hour, step("a", true), step("b", true, "a"), step("c", true, "b"))
	env := workflowtest.NewProcessEnv(t, f, def)
	runDef(env, def)

	if st := result(t, env).Status.State; st != process.StateCompleted {
		t.Fatalf("state %s, want completed", st)
	}
	if f.Stores != 1 {
		t.Errorf("%d stores for a process of three quick steps, want 1", f.Stores)
	}
	wantNumbered(t, f.Events, process.StateCompleted)
	if len(f.Events) < 7 { // running, then each step's running and succeeded, then completed
		t.Errorf("%d events stored, want every change of the three steps", len(f.Events))
	}
}

// A step that takes an hour does not hold back the changes before it: they
// are stored within the window, while the step runs.
func TestLongStepsChangesAreStoredWithinTheWindow(t *testing.T) {
	f := engineFarm()
	def := definition(time.Hour, step("a", true), step("slow", true, "a"))
	env := workflowtest.NewProcessEnv(t, f, def, workflowtest.Delay{Activity: "slow", D: time.Hour})
	env.RegisterDelayedCallback(func() {
		running := false
		for _, ev := range f.Events {
			running = running || ev.ChangeKind == events.KindStep && ev.Step != nil && ev.Step.Name == "slow" && ev.Step.State == string(process.StepRunning)
		}
		if !running {
			t.Errorf("a minute into the slow step, %d events stored and none says it runs", len(f.Events))
		}
	}, time.Minute)
	runDef(env, def)

	if st := result(t, env).Status.State; st != process.StateCompleted {
		t.Fatalf("state %s, want completed", st)
	}
	wantNumbered(t, f.Events, process.StateCompleted)
}
