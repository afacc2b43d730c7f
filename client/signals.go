package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.temporal.io/api/serviceerror"

	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/extension"
	"github.com/wikiflow/wikiflow/workflows/inactivity"
	"github.com/wikiflow/wikiflow/workflows/renamewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
	"github.com/wikiflow/wikiflow/workflows/restorewiki"
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

// Action names, as the hook and the CLI name them.
const (
	ActionApprove     = "approve"
	ActionDecline     = "decline"
	ActionCancel      = "cancel"
	ActionUndelete    = "undelete"
	ActionHold        = "hold"
	ActionMoreDetails = "more-details"
	ActionEditRequest = "edit-request"
	ActionRetry       = "retry"
	ActionAbort       = "abort"
	ActionReopen      = "reopen"
)

// supported is what each kind's workflow listens for. A signal nobody
// listens for is kept in the history and never answered, so anything else
// is refused before it is sent:
//   - create-wiki: the engine's retry-step and abort;
//   - delete-wiki: the gate's approve/decline/cancel, undelete, and the
//     engine's retry-step/abort of the removal steps;
//   - change-setting: the gate (restricted settings) and the engine's apply step;
//   - request-wiki: the gate and the review's hold, more-details and
//     edit-request (the creation it starts is its own create-wiki process);
//   - restore-wiki: the gate (one steward) and the engine's retry-step/abort
//     of the restore steps;
//   - rename-wiki: the gate (one steward) and the engine's retry-step/abort
//     of the rename steps;
//   - inactivity: reopen, while the wiki is closed for inactivity;
//   - enable-extension, disable-extension: the gate (restricted extensions)
//     and the engine's retry-step/abort.
var supported = map[string][]string{
	createwiki.KindCreateWiki:       {ActionRetry, ActionAbort},
	deletewiki.KindDeleteWiki:       {ActionApprove, ActionDecline, ActionCancel, ActionUndelete, ActionRetry, ActionAbort},
	changesetting.KindChangeSetting: {ActionApprove, ActionDecline, ActionCancel, ActionRetry, ActionAbort},
	requestwiki.KindRequestWiki:     {ActionApprove, ActionDecline, ActionCancel, ActionHold, ActionMoreDetails, ActionEditRequest},
	restorewiki.KindRestoreWiki:     {ActionApprove, ActionDecline, ActionCancel, ActionRetry, ActionAbort},
	renamewiki.KindRenameWiki:       {ActionApprove, ActionDecline, ActionCancel, ActionRetry, ActionAbort},
	inactivity.KindInactivity:       {ActionReopen},
	extension.KindEnable:            {ActionApprove, ActionDecline, ActionCancel, ActionRetry, ActionAbort},
	extension.KindDisable:           {ActionApprove, ActionDecline, ActionCancel, ActionRetry, ActionAbort},
}

// Kinds are the process kinds there are, the ones a list may filter on.
var Kinds = []string{createwiki.KindCreateWiki, deletewiki.KindDeleteWiki, changesetting.KindChangeSetting, requestwiki.KindRequestWiki,
	restorewiki.KindRestoreWiki, inactivity.KindInactivity, extension.KindEnable, extension.KindDisable, renamewiki.KindRenameWiki}

// SupportedActions lists the actions a process kind takes; nil for a kind
// that does not exist.
func SupportedActions(kind string) []string {
	return slices.Clone(supported[kind])
}

// KindOf is the kind a process ID names (the part before the first colon).
func KindOf(id string) string {
	kind, _, _ := strings.Cut(id, ":")
	return kind
}

// UnsupportedActionError is an action the target process's kind never
// takes (approve sent to a creation); nothing was sent.
type UnsupportedActionError struct {
	ID, Kind, Action string
}

func (e *UnsupportedActionError) Error() string {
	return fmt.Sprintf("%s processes do not take %q (%s takes %s); nothing was sent",
		e.Kind, e.Action, e.ID, strings.Join(supported[e.Kind], ", "))
}

// CheckAction refuses, before anything is sent, an action that id's kind
// does not take: an invalid ID or unknown action is an InvalidError, a kind
// that does not exist is ErrNoProcess, an action of another kind an
// UnsupportedActionError.
func CheckAction(id, action string) error {
	if err := CheckID(id); err != nil {
		return &InvalidError{Msg: err.Error()}
	}
	if !KnownAction(action) {
		return &InvalidError{Msg: fmt.Sprintf("unknown action %q", action)}
	}
	kind := KindOf(id)
	actions, ok := supported[kind]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoProcess, id)
	}
	if !slices.Contains(actions, action) {
		return &UnsupportedActionError{ID: id, Kind: kind, Action: action}
	}
	return nil
}

// decision sends signal with a process.DecisionSignal: who decided and why.
func decision(signal string) func(a Action) (string, any) {
	return func(a Action) (string, any) {
		return signal, process.DecisionSignal{User: a.User, Comment: a.Comment}
	}
}

// review sends a request's review signal with who reviewed it and why.
func review(signal string) func(a Action) (string, any) {
	return func(a Action) (string, any) {
		return signal, requestwiki.ReviewRequest{User: a.User, Comment: a.Comment}
	}
}

// signalOf maps each action to its signal and payload.
var signalOf = map[string]func(a Action) (string, any){
	ActionApprove:     decision(process.SignalApprove),
	ActionDecline:     decision(process.SignalDecline),
	ActionCancel:      decision(process.SignalCancel),
	ActionUndelete:    decision(process.SignalUndelete),
	ActionReopen:      decision(inactivity.SignalReopen),
	ActionHold:        review(requestwiki.ReviewHold),
	ActionMoreDetails: review(requestwiki.ReviewMoreDetails),
	ActionEditRequest: func(a Action) (string, any) {
		return requestwiki.ReviewEdit, requestwiki.ReviewRequest{User: a.User, Comment: a.Comment,
			Sitename: a.Sitename, Language: a.Language, Category: a.Category}
	},
	ActionRetry: func(a Action) (string, any) {
		return process.SignalRetryStep, process.RetryRequest{User: a.User, Step: a.Step}
	},
	ActionAbort: func(a Action) (string, any) {
		return process.SignalAbort, process.AbortRequest{User: a.User, Reason: a.Comment}
	},
}

// KnownAction tells whether a is an action Send understands.
func KnownAction(a string) bool {
	_, ok := signalOf[a]
	return ok
}

// Send signals an action to an open process, after CheckAction.
func (c *Client) Send(ctx context.Context, id string, a Action) error {
	if err := CheckAction(id, a.Action); err != nil {
		return err
	}
	name, payload := signalOf[a.Action](a)
	err := c.Temporal.SignalWorkflow(ctx, id, "", name, payload)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return fmt.Errorf("%w: %s", ErrNoProcess, id)
	}
	return err
}
