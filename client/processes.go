package client

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

var processID = regexp.MustCompile(`^[a-z][a-z-]{0,40}:[a-z0-9_]{1,64}(:[A-Za-z][A-Za-z0-9_]{0,63})?$`)

// CheckID refuses a string that cannot be a process ID.
func CheckID(id string) error {
	if !processID.MatchString(id) {
		return &InvalidError{Msg: fmt.Sprintf("invalid process ID %q (e.g. create-wiki:demowiki)", id)}
	}
	return nil
}

func (c *Client) query(ctx context.Context, id string) (process.Status, error) {
	v, err := c.Temporal.QueryWorkflow(ctx, id, "", process.QueryStatus)
	if err != nil {
		return process.Status{}, err
	}
	var st process.Status
	err = v.Get(&st)
	return st, err
}

// Status reads a process's state. A closed process's state is its
// workflow's result, which Temporal keeps without any worker; an open one
// answers the status query, which needs a worker. A workflow that ended
// before its steps started without a result (a refused validation of a run
// from before refusals completed) is reported as failed with the reason.
func (c *Client) Status(ctx context.Context, id string) (process.Status, error) {
	if err := CheckID(id); err != nil {
		return process.Status{}, err
	}
	desc, err := c.Temporal.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return process.Status{}, fmt.Errorf("%w: %s", ErrNoProcess, id)
	}
	if err != nil {
		return process.Status{}, err
	}
	info := desc.WorkflowExecutionInfo
	running := info.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
	var runErr error
	if !running {
		var st *process.Status
		st, runErr = c.result(ctx, id)
		if st != nil {
			return *st, nil
		}
	}
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	st, qerr := c.query(qctx, id)
	cancel()
	if qerr == nil {
		return withPendingAttempts(st, desc), nil
	}
	if running {
		return c.withoutWorker(ctx, desc, qerr)
	}
	// Ended without the engine: the failure is in the workflow's result.
	kind, wiki, _ := strings.Cut(id, ":")
	st = process.Status{ID: id, Kind: kind, Wiki: wiki, State: process.StateFailed, Started: info.StartTime.AsTime()}
	if info.CloseTime != nil {
		st.Ended = info.CloseTime.AsTime()
	}
	step := process.StepStatus{Name: createwiki.StepValidate, State: process.StepFailed, Critical: true, Attempts: 1}
	if runErr != nil {
		step.Error = rootMessage(runErr)
	}
	st.Steps = []process.StepStatus{step}
	return st, refused("%s", step.Error)
}

// queryTimeout bounds how long a status query waits for a worker: with
// none polling, Temporal holds the query until the caller gives up.
const queryTimeout = 5 * time.Second

// withoutWorker answers for an open process whose status query got no
// answer: when no worker polls its task queue, the last state the process
// recorded (its ProcessState search attribute) with a note saying so,
// rather than a guess. When workers poll, the process is most likely still
// bound to the cache of a worker that died (its sticky queue, which the
// server gives up on only after a while): that binding is cleared and the
// query asked once more, so another worker replays the process and
// answers. Otherwise the query's error.
func (c *Client) withoutWorker(ctx context.Context, desc *workflowservice.DescribeWorkflowExecutionResponse, qerr error) (process.Status, error) {
	info := desc.WorkflowExecutionInfo
	queue := info.GetTaskQueue()
	if queue == "" {
		queue = c.Config.Temporal.TaskQueue
	}
	tq, err := c.Temporal.DescribeTaskQueue(ctx, queue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return process.Status{}, qerr
	}
	if len(tq.GetPollers()) > 0 {
		_, err := c.Temporal.WorkflowService().ResetStickyTaskQueue(ctx, &workflowservice.ResetStickyTaskQueueRequest{
			Namespace: c.Config.Temporal.Namespace, Execution: info.Execution,
		})
		if err != nil {
			return process.Status{}, qerr
		}
		qctx, cancel := context.WithTimeout(ctx, queryTimeout)
		defer cancel()
		st, err := c.query(qctx, info.Execution.WorkflowId)
		if err != nil {
			return process.Status{}, err
		}
		return withPendingAttempts(st, desc), nil
	}
	attrs := info.GetSearchAttributes().GetIndexedFields()
	kind, wiki, _ := strings.Cut(info.Execution.WorkflowId, ":")
	st := process.Status{
		ID: info.Execution.WorkflowId, Kind: kind, Wiki: keyword(attrs, process.AttrWikiDB),
		Requester: keyword(attrs, process.AttrRequester), State: process.State(keyword(attrs, process.AttrProcessState)),
		Started: info.StartTime.AsTime(),
		NoWorker: fmt.Sprintf("no worker polls the task queue %s: this is the last state the process recorded; "+
			"its steps are shown once a worker runs", queue),
	}
	if st.Wiki == "" {
		st.Wiki, _, _ = strings.Cut(wiki, ":")
	}
	return st, ErrNoWorker
}

// ErrNoWorker means no worker answers for an open process; the status
// returned with it is the last one the process recorded.
var ErrNoWorker = errors.New("no worker answers")

// result reads a closed process's status from its workflow's result: the
// processes return it as Status, or inside Process (creation) or as the
// details of a failed engine run. nil when the result holds none.
func (c *Client) result(ctx context.Context, id string) (*process.Status, error) {
	var out struct {
		Status  *process.Status
		Process *workflows.ProcessResult
	}
	err := c.Temporal.GetWorkflow(ctx, id, "").Get(ctx, &out)
	var app *temporal.ApplicationError
	if err != nil && errors.As(err, &app) && app.HasDetails() {
		var pr workflows.ProcessResult
		if app.Details(&pr) == nil && pr.Status.ID != "" {
			out.Process = &pr
		}
	}
	switch {
	case out.Status != nil && out.Status.ID != "":
		return out.Status, err
	case out.Process != nil && out.Process.Status.ID != "":
		return &out.Process.Status, err
	}
	return nil, err
}

// rootMessage digs the activity's own message out of Temporal's wrapping.
func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// ListFilter narrows a list; empty fields match everything.
type ListFilter struct {
	Wiki  string
	Kind  string
	State string
	// Open keeps only workflows still running: a process whose workflow was
	// terminated keeps the ProcessState it last upserted.
	Open bool
}

// States are the process states a list may filter on.
var States = process.StateNames()

// ListQuery builds the visibility query of a filter. Every value is checked
// against a closed set or a strict pattern first, so no input can change the
// query's shape.
func ListQuery(f ListFilter) (string, error) {
	clauses := []string{}
	add := func(attr, value string) {
		clauses = append(clauses, fmt.Sprintf("%s = '%s'", attr, value))
	}
	if f.Wiki != "" {
		if err := ValidateDBName(f.Wiki); err != nil {
			return "", err
		}
		add(process.AttrWikiDB, f.Wiki)
	}
	if f.Kind != "" {
		if !contains(Kinds, f.Kind) {
			return "", &InvalidError{Msg: fmt.Sprintf("unknown kind %q (one of %s)", f.Kind, strings.Join(Kinds, ", "))}
		}
		add(process.AttrProcessKind, f.Kind)
	}
	if f.State != "" {
		if !contains(States, f.State) {
			return "", &InvalidError{Msg: fmt.Sprintf("unknown state %q (one of %s)", f.State, strings.Join(States, ", "))}
		}
		add(process.AttrProcessState, f.State)
	}
	if len(clauses) == 0 {
		clauses = append(clauses, process.AttrProcessKind+" IS NOT NULL")
	}
	if f.Open {
		clauses = append(clauses, "ExecutionStatus = 'Running'")
	}
	// No ORDER BY: not every visibility store supports it; List sorts.
	return strings.Join(clauses, " AND "), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ListItem is one process in a list.
type ListItem struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	State     string    `json:"state"`
	Wiki      string    `json:"wiki"`
	Requester string    `json:"requester"`
	Started   time.Time `json:"started"`
}

// List returns the processes matching a filter, newest first (at most 200).
func (c *Client) List(ctx context.Context, f ListFilter) ([]ListItem, error) {
	q, err := ListQuery(f)
	if err != nil {
		return nil, err
	}
	resp, err := c.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: c.Config.Temporal.Namespace, Query: q, PageSize: 200,
	})
	if err != nil {
		return nil, err
	}
	items := []ListItem{}
	for _, e := range resp.Executions {
		attrs := e.GetSearchAttributes().GetIndexedFields()
		items = append(items, ListItem{
			ID:        e.Execution.WorkflowId,
			Kind:      keyword(attrs, process.AttrProcessKind),
			State:     keyword(attrs, process.AttrProcessState),
			Wiki:      keyword(attrs, process.AttrWikiDB),
			Requester: keyword(attrs, process.AttrRequester),
			Started:   e.StartTime.AsTime(),
		})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].Started.After(items[j].Started) })
	return items, nil
}

func keyword(attrs map[string]*commonpb.Payload, name string) string {
	var s string
	if p, ok := attrs[name]; ok {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &s)
	}
	return s
}
