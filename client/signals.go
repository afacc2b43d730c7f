package client

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows"
)

// ErrNoProcess means there is no open process with that ID.
var ErrNoProcess = errors.New("no such open process")

// Action is a decision sent by a wiki hook: fire and forget. The process
// decides and records the outcome in its status.
type Action struct {
	Action   string `json:"action"`
	User     string `json:"user"`
	Comment  string `json:"comment,omitempty"`
	Step     string `json:"step,omitempty"`
	Sitename string `json:"sitename,omitempty"`
	Language string `json:"language,omitempty"`
	Category string `json:"category,omitempty"`
}

// signalOf maps each action to its signal and payload.
var signalOf = map[string]func(a Action) (string, any){
	"approve": func(a Action) (string, any) {
		return process.SignalApprove, process.Decision{User: a.User, Comment: a.Comment}
	},
	"decline": func(a Action) (string, any) {
		return process.SignalDecline, process.Decision{User: a.User, Comment: a.Comment}
	},
	"cancel": func(a Action) (string, any) {
		return process.SignalCancel, process.Decision{User: a.User, Comment: a.Comment}
	},
	"undelete": func(a Action) (string, any) {
		return process.SignalUndelete, process.Decision{User: a.User, Comment: a.Comment}
	},
	"hold": func(a Action) (string, any) {
		return workflows.ReviewHold, workflows.ReviewRequest{User: a.User, Comment: a.Comment}
	},
	"more-details": func(a Action) (string, any) {
		return workflows.ReviewMoreDetails, workflows.ReviewRequest{User: a.User, Comment: a.Comment}
	},
	"edit-request": func(a Action) (string, any) {
		return workflows.ReviewEdit, workflows.ReviewRequest{User: a.User, Comment: a.Comment,
			Sitename: a.Sitename, Language: a.Language, Category: a.Category}
	},
	"retry": func(a Action) (string, any) {
		return process.SignalRetryStep, process.RetryRequest{User: a.User, Step: a.Step}
	},
	"abort": func(a Action) (string, any) {
		return process.SignalAbort, process.AbortRequest{User: a.User, Reason: a.Comment}
	},
}

// KnownAction tells whether a is an action Send understands.
func KnownAction(a string) bool {
	_, ok := signalOf[a]
	return ok
}

// Send signals an action to an open process.
func (c *Client) Send(ctx context.Context, id string, a Action) error {
	if err := CheckID(id); err != nil {
		return err
	}
	to, ok := signalOf[a.Action]
	if !ok {
		return &UsageError{Msg: fmt.Sprintf("unknown action %q", a.Action)}
	}
	name, payload := to(a)
	err := c.Temporal.SignalWorkflow(ctx, id, "", name, payload)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("%w: %s", ErrNoProcess, id)
	}
	return err
}
