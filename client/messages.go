package client

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/wikiflow/wikiflow/process"
	"go.temporal.io/api/serviceerror"
	tclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
)

// Decide sends approve, decline or cancel to a process's approval gate and
// returns the status the decision left, from the update's answer: one
// round trip. A worker from before that answer carried the status is asked
// for it.
func (c *Client) Decide(ctx context.Context, id string, action process.Decision, user, comment string) (process.Status, error) {
	v, err := c.update(ctx, id, process.UpdateDecide, process.DecideRequest{Action: action, User: user, Comment: comment})
	if err != nil {
		return process.Status{}, err
	}
	var d process.Decided
	if err := v.Get(&d); err != nil {
		return process.Status{}, err
	}
	if d.Status == nil {
		return c.Status(ctx, id)
	}
	return *d.Status, nil
}

// Retry asks a process to run a failed step again on behalf of user. The
// workflow checks the user's rights; a refusal is a RefusedError.
func (c *Client) Retry(ctx context.Context, id, step, user string) (process.Status, error) {
	return c.updateStatus(ctx, id, process.UpdateRetryStep, process.RetryRequest{User: user, Step: step})
}

// Abort asks a process to stop and undo what it did.
func (c *Client) Abort(ctx context.Context, id, user, reason string) (process.Status, error) {
	return c.updateStatus(ctx, id, process.UpdateAbort, process.AbortRequest{User: user, Reason: reason})
}

func (c *Client) updateStatus(ctx context.Context, id, name string, arg any) (process.Status, error) {
	v, err := c.update(ctx, id, name, arg)
	if err != nil {
		return process.Status{}, err
	}
	var st process.Status
	return st, v.Get(&st)
}

func (c *Client) update(ctx context.Context, id, name string, arg any) (converter.EncodedValue, error) {
	if err := CheckID(id); err != nil {
		return nil, err
	}
	h, err := c.Temporal.UpdateWorkflow(ctx, tclient.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: name, Args: []any{arg}, WaitForStage: tclient.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return nil, asRefusal(id, err)
	}
	var raw json.RawMessage
	if err := h.Get(ctx, &raw); err != nil {
		return nil, asRefusal(id, err)
	}
	return rawValue(raw), nil
}

// rawValue lets callers decode an update's answer into their own type.
type rawValue json.RawMessage

func (r rawValue) HasValue() bool { return len(r) > 0 }

func (r rawValue) Get(v any) error { return json.Unmarshal(r, v) }

func asRefusal(id string, err error) error {
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return refused("no open process %s", id)
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return refused("%s", app.Message())
	}
	return err
}
