package process

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	step := func(name string, critical bool, requires ...string) StepDef {
		return StepDef{Name: name, Activity: "act-" + name, Critical: critical, Requires: requires}
	}
	cases := []struct {
		name  string
		steps []StepDef
		want  []string // substrings of the error; none: valid
	}{
		{"valid diamond", []StepDef{step("a", true), step("b", true, "a"), step("c", false, "a"), step("d", false, "b", "c")}, nil},
		{"cycle", []StepDef{step("a", true, "c"), step("b", true, "a"), step("c", true, "b")}, []string{"cycle", "a -> c -> b -> a"}},
		{"self", []StepDef{step("a", true, "a")}, []string{`"a" requires itself`}},
		{"unknown requires", []StepDef{step("a", true, "ghost")}, []string{`requires unknown step "ghost"`}},
		{"duplicate", []StepDef{step("a", true), step("a", true)}, []string{`"a" is defined twice`}},
		{"no activity", []StepDef{{Name: "a"}}, []string{`"a" has no activity`}},
		{"critical on optional", []StepDef{step("a", false), step("b", true, "a")}, []string{`critical step "b" requires optional step "a"`}},
		{"several at once", []StepDef{step("a", true, "ghost"), {Name: "b"}}, []string{"ghost", `"b" has no activity`}},
		{"negative budget", []StepDef{{Name: "a", Activity: "x", Retry: RetryDef{Budget: -1}}}, []string{`"a" has a negative duration`}},
		{"budget", []StepDef{{Name: "a", Activity: "x", Retry: TransientRetry(20 * time.Minute)}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Definition{Kind: "test", Steps: c.steps}.Validate()
			if len(c.want) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error containing %q, got nil", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestValidateDefinitionFields(t *testing.T) {
	err := Definition{Authorize: AuthorizeDef{AnyRight: []Right{"managewiki"}}}.Validate()
	for _, w := range []string{"kind is empty", "no steps", "no activity to check them"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v does not mention %q", err, w)
		}
	}
}

// Definitions are data recorded in workflow inputs: one recorded before
// budgets decodes with none, and keeps its attempts.
func TestRetryDefDecodesOldDefinitions(t *testing.T) {
	var r RetryDef
	if err := json.Unmarshal([]byte(`{"initial_interval":1000000000,"maximum_interval":30000000000,"backoff_coefficient":2,"maximum_attempts":5}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.Budget != 0 || r.MaximumAttempts != 5 {
		t.Fatalf("old definition: %+v", r)
	}
	b, _ := json.Marshal(TransientRetry(20 * time.Minute))
	if !strings.Contains(string(b), `"budget":1200000000000`) || strings.Contains(string(b), "maximum_attempts") {
		t.Fatalf("new definition: %s", b)
	}
	p := NewRetryPolicies(20 * time.Minute)
	if p.Activities.Budget != 20*time.Minute || p.Decisions.Budget != DecisionBudget {
		t.Fatalf("policies: %+v", p)
	}
}
