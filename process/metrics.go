package process

// Names of the farm's own metrics, served with the Temporal SDK's on the
// worker's /metrics (README, "Metrics"). The worker's metrics handler names
// them for Prometheus: a counter gets _total, a timer _seconds (a
// histogram). Their labels are the Metric...Tag keys below, plus the SDK's
// own (namespace, task_queue, workflow_type, activity_type) for what
// workflows and activities emit.
const (
	// MetricProcessesStarted counts processes started, by kind.
	MetricProcessesStarted = "wikiflow_processes_started"
	// MetricProcessesEnded counts processes ended, by kind and end state.
	MetricProcessesEnded = "wikiflow_processes_ended"
	// MetricStepDuration times every attempt of a step, by kind, step and
	// outcome (succeeded or failed).
	MetricStepDuration = "wikiflow_step_duration"
	// MetricStepRetries counts the attempts of a step after its first, by
	// kind and step.
	MetricStepRetries = "wikiflow_step_retries"
	// MetricOpenProcesses is how many processes are open, by kind and state.
	MetricOpenProcesses = "wikiflow_open_processes"
	// MetricApprovalsWaiting is how many processes wait for an approval, by kind.
	MetricApprovalsWaiting = "wikiflow_approvals_waiting"
	// MetricOldestApproval is the age in seconds of the oldest process
	// waiting for an approval, by kind (0 when none waits).
	MetricOldestApproval = "wikiflow_approval_oldest_age_seconds"
	// MetricGaugeRefreshFailures counts the refreshes of the gauges above
	// that failed (their values are then the previous ones).
	MetricGaugeRefreshFailures = "wikiflow_gauge_refresh_failures"
	// MetricHookRequests counts the hook endpoint's requests, by route and
	// status code.
	MetricHookRequests = "wikiflow_hook_requests"
)

// Label keys of the farm's metrics.
const (
	MetricKindTag    = "kind"
	MetricStateTag   = "state"
	MetricStepTag    = "step"
	MetricOutcomeTag = "outcome"
	MetricRouteTag   = "route"
	MetricCodeTag    = "code"
)

// Outcomes of a step's attempt, as MetricStepDuration labels them.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
)

// UndoIDPrefix begins the activity ID of a step's undo; the rest is the
// step's name.
const UndoIDPrefix = "undo:"
