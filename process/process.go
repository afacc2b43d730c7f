// Package process holds the plain types of a wiki-farm process: its
// definition (a graph of steps), the contracts of step and authorization
// activities, the status a process reports, and the names of its messages.
// It imports nothing from the Temporal SDK so that activities, clients and
// the wiki hook can share it; the engine lives in package workflows.
package process

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Definition describes one kind of process (create-wiki, delete-wiki, ...).
type Definition struct {
	Kind  string    `json:"kind"`
	Steps []StepDef `json:"steps"`
	// AttentionWindow is how long a process with a failed step stays open for
	// a person to retry or abort it. Zero means it ends at once.
	AttentionWindow time.Duration `json:"attention_window"`
	// Authorize decides who may retry or abort. Without an activity anyone
	// named in the request may: leave it empty only in tests and tools.
	Authorize AuthorizeDef `json:"authorize"`
}

// StepDef is one node of the graph. A step runs once every step it requires
// has succeeded.
type StepDef struct {
	Name     string   `json:"name"`
	Activity string   `json:"activity"` // registered activity name, StepInput -> StepResult
	Requires []string `json:"requires,omitempty"`
	// Critical steps stop the process (needs-attention) when they fail; an
	// optional step's failure only blocks the steps that require it.
	Critical bool              `json:"critical"`
	Params   map[string]string `json:"params,omitempty"`
	Retry    RetryDef          `json:"retry"`
	// StartToClose defaults to 10 minutes. Heartbeat is off when zero.
	StartToClose time.Duration `json:"start_to_close,omitempty"`
	Heartbeat    time.Duration `json:"heartbeat,omitempty"`
	// Undo names the activity (same contract as the step's) that reverts a
	// succeeded step when the process is aborted. Empty: nothing to revert.
	Undo string `json:"undo,omitempty"`
	// Local runs the step as a local activity: in the worker that runs the
	// workflow task, with no round trip through the server before and
	// after it (a marker in the history instead of activity events). For
	// short steps (a few database statements, an API call) the round trip
	// costs more than the work. A local step has no heartbeat; its retries
	// and budget are the same as an activity's.
	Local bool `json:"local,omitempty"`
}

// RetryDef is the Temporal retry policy of a step. Zero fields take the
// server's defaults, except MaximumAttempts: without a Budget, zero means
// DefaultMaximumAttempts, because a step retried forever would never reach
// a person.
//
// Budget bounds the retrying in time instead: attempts are unlimited (unless
// MaximumAttempts also bounds them) until Budget has passed since the first
// attempt was scheduled (the activity's ScheduleToClose timeout; never less
// than one StartToClose, so an attempt that may take longer than the budget
// still gets its whole time). Only retryable failures use it: a permanent
// one (a non-retryable ApplicationError) ends the step at once. Definitions
// recorded before budgets existed have none and keep their attempts.
type RetryDef struct {
	InitialInterval    time.Duration `json:"initial_interval,omitempty"`
	MaximumInterval    time.Duration `json:"maximum_interval,omitempty"`
	BackoffCoefficient float64       `json:"backoff_coefficient,omitempty"`
	MaximumAttempts    int32         `json:"maximum_attempts,omitempty"`
	Budget             time.Duration `json:"budget,omitempty"`
}

// DefaultMaximumAttempts applies when RetryDef.MaximumAttempts and Budget are zero.
const DefaultMaximumAttempts = 3

// TransientRetry is the policy of a step that rides out outages: capped
// exponential backoff (1 s doubling to 30 s) for budget. A zero budget gives
// the bounded policy steps had before budgets (five attempts, about 15 s),
// for definitions built without one.
func TransientRetry(budget time.Duration) RetryDef {
	r := RetryDef{InitialInterval: time.Second, MaximumInterval: 30 * time.Second, BackoffCoefficient: 2, Budget: budget}
	if budget <= 0 {
		r.Budget, r.MaximumAttempts = 0, 5
	}
	return r
}

// DecisionBudget bounds the retrying of a rights check a person is waiting
// for (retry, abort, approve, decline, undelete): they get an answer within
// about two minutes even while MediaWiki is down, and may simply ask again,
// where a step would rather wait the whole transient budget.
const DecisionBudget = 2 * time.Minute

// MemoRetry is the memo key under which a process carries RetryPolicies:
// the policies of the activities it runs outside its step graph. The memo is
// recorded when the workflow starts, like its input, so a configuration
// change never alters a running process, and processes started before the
// key existed keep the fixed policies they started with.
const MemoRetry = "retry"

// RetryPolicies are the policies of the activities outside a step graph.
type RetryPolicies struct {
	// Activities: validation before the graph, lookups, closing a wiki,
	// filing and updating requests.
	Activities RetryDef `json:"activities"`
	// Decisions: rights checks a person is waiting for (see DecisionBudget).
	Decisions RetryDef `json:"decisions"`
}

// NewRetryPolicies are the policies for a transient-retry budget.
func NewRetryPolicies(budget time.Duration) RetryPolicies {
	decisions := min(budget, DecisionBudget)
	return RetryPolicies{Activities: TransientRetry(budget), Decisions: TransientRetry(decisions)}
}

// AuthorizeDef: a user may retry or abort when they hold any of AnyRight on
// Wiki (empty: the process's wiki), as answered by running Activity
// (AuthorizeInput -> AuthorizeResult).
type AuthorizeDef struct {
	Activity string  `json:"activity,omitempty"`
	Wiki     string  `json:"wiki,omitempty"`
	AnyRight []Right `json:"any_right,omitempty"`
	// LocalRights, any of which on the process's own wiki also authorizes
	// (e.g. the new wiki's bureaucrat retrying its main page).
	LocalRights []Right `json:"local_rights,omitempty"`
}

// Validate reports every problem of the definition at once.
func (d Definition) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if d.Kind == "" {
		bad("kind is empty")
	}
	if len(d.Steps) == 0 {
		bad("no steps")
	}
	if d.AttentionWindow < 0 {
		bad("attention window is negative")
	}
	if len(d.Authorize.AnyRight) > 0 && d.Authorize.Activity == "" {
		bad("authorize lists rights but no activity to check them")
	}
	byName := make(map[string]StepDef, len(d.Steps))
	for i, s := range d.Steps {
		switch _, dup := byName[s.Name]; {
		case s.Name == "":
			bad("step %d has no name", i)
		case dup:
			bad("step %q is defined twice", s.Name)
		}
		byName[s.Name] = s
		if s.Activity == "" {
			bad("step %q has no activity", s.Name)
		}
		if s.StartToClose < 0 || s.Heartbeat < 0 || s.Retry.InitialInterval < 0 || s.Retry.MaximumInterval < 0 || s.Retry.Budget < 0 {
			bad("step %q has a negative duration", s.Name)
		}
		if s.Local && s.Heartbeat > 0 {
			bad("step %q: a local step cannot heartbeat", s.Name)
		}
		if s.Retry.MaximumAttempts < 0 || (s.Retry.BackoffCoefficient != 0 && s.Retry.BackoffCoefficient < 1) {
			bad("step %q: maximum attempts must be >= 0 and backoff coefficient 0 or >= 1", s.Name)
		}
	}
	for _, s := range d.Steps {
		for _, r := range s.Requires {
			req, ok := byName[r]
			switch {
			case !ok:
				bad("step %q requires unknown step %q", s.Name, r)
			case r == s.Name:
				bad("step %q requires itself", s.Name)
			case s.Critical && !req.Critical:
				// Otherwise an optional failure would silently stall a step
				// the process cannot complete without.
				bad("critical step %q requires optional step %q", s.Name, r)
			}
		}
	}
	if cycle := findCycle(d.Steps, byName); cycle != nil {
		bad("steps form a cycle (each requires the next): %s", strings.Join(cycle, " -> "))
	}
	return errors.Join(errs...)
}

// findCycle returns one cycle of the requires graph (first name repeated at
// the end), or nil. Depth-first search in definition order, so the answer is
// stable.
func findCycle(steps []StepDef, byName map[string]StepDef) []string {
	const (
		unseen = iota
		onPath
		done
	)
	mark := make(map[string]int, len(steps))
	var path []string
	var visit func(name string) []string
	visit = func(name string) []string {
		mark[name] = onPath
		path = append(path, name)
		for _, r := range byName[name].Requires {
			if _, known := byName[r]; !known || r == name {
				continue // reported separately
			}
			switch mark[r] {
			case onPath:
				for i, n := range path {
					if n == r {
						return append(append([]string{}, path[i:]...), r)
					}
				}
			case unseen:
				if c := visit(r); c != nil {
					return c
				}
			}
		}
		path = path[:len(path)-1]
		mark[name] = done
		return nil
	}
	for _, s := range steps {
		if mark[s.Name] == unseen {
			if c := visit(s.Name); c != nil {
				return c
			}
		}
	}
	return nil
}
