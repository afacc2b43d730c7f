package process

import "time"

// WikiSpec is the wiki a process works on.
type WikiSpec struct {
	DB       string `json:"db"`
	Sitename string `json:"sitename,omitempty"`
	Language string `json:"language,omitempty"`
	Category string `json:"category,omitempty"`
	Private  bool   `json:"private,omitempty"`
}

// StepInput is what every step (and undo) activity receives:
//
//	func(ctx context.Context, in process.StepInput) (process.StepResult, error)
//
// A permanent failure should be a non-retryable ApplicationError: it ends the
// step at once instead of using up the retry policy.
type StepInput struct {
	ProcessID string            `json:"process_id"` // the workflow ID
	Kind      string            `json:"kind"`
	Step      string            `json:"step"`
	Wiki      WikiSpec          `json:"wiki"`
	Requester string            `json:"requester"`
	Args      map[string]string `json:"args,omitempty"`   // process-level arguments
	Params    map[string]string `json:"params,omitempty"` // this step's params
	// Outputs of the steps that have succeeded so far, by step name. Only
	// the outputs of required steps are sure to be there.
	Outputs map[string]map[string]string `json:"outputs,omitempty"`
}

// StepResult is what a step activity returns.
type StepResult struct {
	Summary string            `json:"summary,omitempty"`
	Outputs map[string]string `json:"outputs,omitempty"`
	// Attempt is the attempt that produced the result (1 for the first run),
	// stamped by the worker's activity interceptor, not by the activity.
	Attempt int32 `json:"attempt,omitempty"`
}

// AttemptDetails are the details the worker's activity interceptor puts on
// every failure it returns: which attempt failed. The engine reads them to
// count the executions of a step whose retries ended in a failure.
type AttemptDetails struct {
	Attempt int32 `json:"attempt"`
}

// AuthorizeInput asks whether User holds any of AnyRight on Wiki:
//
//	func(ctx context.Context, in process.AuthorizeInput) (process.AuthorizeResult, error)
type AuthorizeInput struct {
	User     string  `json:"user"`
	Wiki     string  `json:"wiki"`
	AnyRight []Right `json:"any_right"`
}

// AuthorizeResult: Rights are the user's rights found; Reason explains a
// refusal. User and UserID are who MediaWiki says the name is (canonical
// name, central id); NoAccount means the name is no account at all.
type AuthorizeResult struct {
	Allowed   bool    `json:"allowed"`
	Rights    []Right `json:"rights,omitempty"`
	Reason    string  `json:"reason,omitempty"`
	User      string  `json:"user,omitempty"`
	UserID    int     `json:"user_id,omitempty"`
	NoAccount bool    `json:"no_account,omitempty"`
}

// State is a process's state, as the status query, the ProcessState
// search attribute and the CLI show it.
type State string

// Process states.
const (
	StateRunning        State = "running"
	StateNeedsAttention State = "needs-attention" // a step failed; open for retry/abort until the window ends
	StateCompleted      State = "completed"       // may still list failed optional steps
	StateFailed         State = "failed"          // a critical step failed and nobody fixed it in time
	StateAborted        State = "aborted"         // a person aborted; succeeded steps were undone
	StateRefused        State = "refused"         // the request was refused before anything changed
)

// States lists every process state, in the order people read them.
var States = []State{StateRunning, StateNeedsAttention, StateCompleted, StateFailed, StateAborted,
	StateWaitingApproval, StateGracePeriod, StateApproved, StateDeclined, StateExpired, StateCancelled, StateRefused,
	StateWarned, StateClosedInactive}

// StateNames are the States as text (flags, help, queries).
func StateNames() []string {
	names := make([]string, len(States))
	for i, s := range States {
		names[i] = string(s)
	}
	return names
}

// Ended tells whether a process state is one it ends in.
func Ended(state State) bool {
	switch state {
	case StateCompleted, StateFailed, StateAborted, StateDeclined, StateExpired, StateCancelled, StateRefused:
		return true
	case StateRunning, StateNeedsAttention, StateWaitingApproval, StateGracePeriod, StateApproved, StateWarned, StateClosedInactive:
	}
	return false
}

// StepState is a step's state in a process's status.
type StepState string

// Step states.
const (
	StepPending   StepState = "pending"
	StepRunning   StepState = "running"
	StepSucceeded StepState = "succeeded"
	StepFailed    StepState = "failed"
	StepBlocked   StepState = "blocked" // a required step failed (directly or further up)
	StepSkipped   StepState = "skipped" // never ran: the process ended first
)

// Names of the messages a process workflow answers. Retry and abort come
// as updates (callers get an answer) or as signals (the wiki hook fires and
// forgets); both are checked the same way.
const (
	QueryStatus     = "status"
	UpdateRetryStep = "retry-step"
	UpdateAbort     = "abort"
	SignalRetryStep = "retry-step"
	SignalAbort     = "abort"
	// UpdateChecked answers once the process has checked its request:
	// accepted (a gate is open or the steps run) or refused. A client sends
	// it with the start (Update-with-Start).
	UpdateChecked = "checked"
)

// Action names in ActionRecord.
const (
	ActionRetry = "retry-step"
	ActionAbort = "abort"
)

// ErrTypeRefused is the ApplicationError type of a refused update, and
// ErrTypeFailed the type of the error a process workflow ends with when it
// failed (its details hold the workflows.ProcessResult).
const (
	ErrTypeRefused = "RequestRefused"
	ErrTypeFailed  = "ProcessFailed"
)

// Names of the search attributes the engine keeps up to date (Keyword type;
// registered on the server).
const (
	AttrProcessKind  = "ProcessKind"
	AttrWikiDB       = "WikiDB"
	AttrRequester    = "Requester"
	AttrProcessState = "ProcessState"
)

// RetryRequest asks to run a failed step again.
type RetryRequest struct {
	User string `json:"user"`
	Step string `json:"step"`
}

// AbortRequest asks to stop the process and undo what it did.
type AbortRequest struct {
	User   string `json:"user"`
	Reason string `json:"reason,omitempty"`
}

// ResultError is the Status.Result key of the reason a process was refused
// or failed, as clients show it.
const ResultError = "error"

// Status is what the status query returns.
type Status struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	State     State  `json:"state"`
	Wiki      string `json:"wiki"`
	Requester string `json:"requester"`
	// RequesterID is the requester's central user id, once MediaWiki said
	// who they are.
	RequesterID int            `json:"requester_id,omitempty"`
	Started     time.Time      `json:"started,omitzero"`
	Ended       time.Time      `json:"ended,omitzero"`
	Steps       []StepStatus   `json:"steps"`
	Actions     []ActionRecord `json:"actions,omitempty"`
	// Approvals are the decisions sent to the process's approval gate.
	Approvals []ApprovalRecord `json:"approvals,omitempty"`
	// Result holds what the process wants shown when it ended (a backup's
	// path and checksum, a setting's old value).
	Result map[string]string `json:"result,omitempty"`
	// AttentionUntil is when a process in needs-attention ends on its own.
	AttentionUntil time.Time `json:"attention_until,omitzero"`
	// NoWorker, when set, says that no worker answered for this open
	// process: the state is the last one it recorded, the steps unknown.
	NoWorker string `json:"no_worker,omitempty"`
}

// StepStatus is one step's part of Status.
type StepStatus struct {
	Name     string    `json:"name"`
	State    StepState `json:"state"`
	Critical bool      `json:"critical"`
	// Attempts counts the executions of the step's activity over all its
	// launches: retries inside a launch and attempts lost with a worker
	// included (the attempt number the worker stamps on results and
	// failures). While the step runs, clients add the current attempt the
	// server reports. Processes recorded before the stamp count one per
	// launch, or the maximum when the retries ran out.
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
	// LastFailure is why the previous attempt of a step still running failed
	// (it is being retried), as the server reports it; clients fill it in.
	LastFailure string    `json:"last_failure,omitempty"`
	Summary     string    `json:"summary,omitempty"`
	Started     time.Time `json:"started,omitzero"`
	Ended       time.Time `json:"ended,omitzero"`
	Undone      bool      `json:"undone,omitempty"`
	UndoError   string    `json:"undo_error,omitempty"`
}

// ActionRecord is one retry or abort request, accepted or refused.
type ActionRecord struct {
	User     string    `json:"user"`
	Action   string    `json:"action"`
	Step     string    `json:"step,omitempty"`
	Accepted bool      `json:"accepted"`
	Reason   string    `json:"reason,omitempty"`
	Time     time.Time `json:"time"`
}

// Step returns the status of the named step, or nil.
func (s *Status) Step(name string) *StepStatus {
	for i := range s.Steps {
		if s.Steps[i].Name == name {
			return &s.Steps[i]
		}
	}
	return nil
}
