package client

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	tclient "go.temporal.io/sdk/client"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/changesetting"
	"github.com/wikiflow/wikiflow/workflows/deletewiki"
	"github.com/wikiflow/wikiflow/workflows/requestwiki"
)

// start starts a workflow and, in the same round trip (Update-with-Start),
// gets its answer to the checked update: a refusal (unknown wiki, no right,
// invalid value) comes back as a RefusedError, the process left ended with
// the reason; a request taken comes back with the status after its checks.
func (c *Client) start(ctx context.Context, opts tclient.StartWorkflowOptions, wf any, arg any) (process.Status, error) {
	st, open, err := c.startChecked(ctx, opts, wf, arg)
	if open {
		return st, refused("a process %s is already open", opts.ID)
	}
	return st, err
}

// startChecked is start that tells a process already open (open) apart
// from the other refusals. A worker answers the checked update within
// moments; when none has after queryTimeout and none polls the task queue,
// the start returns ErrNoWorker (the process stays open, and runs once a
// worker comes), else it keeps waiting for the same update.
func (c *Client) startChecked(ctx context.Context, opts tclient.StartWorkflowOptions, wf any, arg any) (st process.Status, open bool, err error) {
	update := tclient.UpdateWorkflowOptions{
		UpdateID: opts.ID + "/checked/" + randomID(), UpdateName: process.UpdateChecked,
		WaitForStage: tclient.WorkflowUpdateStageCompleted,
	}
	first, cancel := context.WithTimeout(ctx, queryTimeout)
	handle, err := c.Temporal.UpdateWithStartWorkflow(first, tclient.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: c.Temporal.NewWithStartWorkflowOperation(opts, wf, arg), UpdateOptions: update,
	})
	cancel()
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	switch {
	case errors.As(err, &started):
		return st, true, nil
	case err != nil && first.Err() != nil && ctx.Err() == nil:
		if st, serr := c.Status(ctx, opts.ID); errors.Is(serr, ErrNoWorker) {
			return st, false, serr
		}
		update.WorkflowID = opts.ID
		handle, err = c.Temporal.UpdateWorkflow(ctx, update)
	}
	if err != nil {
		return st, false, err
	}
	if err := handle.Get(ctx, &st); err != nil {
		return st, false, err
	}
	if (st.State == process.StateFailed || st.State == process.StateRefused) && len(st.Steps) == 0 {
		return st, false, refused("%s", st.Result[process.ResultError])
	}
	return st, false, nil
}

// randomID tells one start's update apart from another's.
func randomID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// DeleteWiki asks for a wiki's deletion.
func (c *Client) DeleteWiki(ctx context.Context, db, requester, reason string) (process.Status, error) {
	if err := ValidateDBName(db); err != nil {
		return process.Status{}, err
	}
	if c.Config.Protected(db) {
		return process.Status{}, refused("%s is a protected wiki (the central wiki or processes.protected_wikis): it cannot be deleted", db)
	}
	cfg := c.Config.Processes
	o := deletewiki.DeleteWikiOptions{
		CentralWiki: c.Config.MediaWiki.CentralWiki, GracePeriod: cfg.DeletionGracePeriod,
		AttentionWindow: cfg.AttentionWindow, LocalApprovers: cfg.DeletionApprovers, Expiry: cfg.ApprovalExpiry,
		ProtectedWikis: cfg.ProtectedWikis, RetryBudget: cfg.TransientRetryBudget,
	}
	id := deletewiki.DeleteWikiID(db)
	return c.start(ctx, c.startOptions(id, deletewiki.KindDeleteWiki, db, requester, fmt.Sprintf("Delete wiki %s, asked by %s: %s", db, requester, reason)),
		deletewiki.DeleteWiki, deletewiki.DeleteWikiInput{
			Wiki: db, Requester: requester, Reason: reason, Options: o, Definition: deletewiki.DeleteWikiDefinition(o),
		})
}

// Undelete reopens a wiki during its deletion's grace period.
func (c *Client) Undelete(ctx context.Context, id, user string) (process.Status, error) {
	if _, err := c.update(ctx, id, process.UpdateUndelete, process.DecisionSignal{User: user}); err != nil {
		return process.Status{}, err
	}
	return c.Status(ctx, id)
}

// ChangeSetting asks for a ManageWiki setting change; value is JSON. An
// unknown setting or an invalid value is refused before any process starts.
func (c *Client) ChangeSetting(ctx context.Context, db, setting, value, requester, reason string) (process.Status, error) {
	if err := ValidateDBName(db); err != nil {
		return process.Status{}, err
	}
	reg, err := c.Settings()
	if err != nil {
		return process.Status{}, err
	}
	normalized, err := reg.Check(setting, json.RawMessage(value))
	if err != nil {
		return process.Status{}, refused("%v", err)
	}
	o := changesetting.ChangeSettingOptions{
		CentralWiki: c.Config.MediaWiki.CentralWiki, AttentionWindow: c.Config.Processes.AttentionWindow,
		Expiry: c.Config.Processes.ApprovalExpiry, RetryBudget: c.Config.Processes.TransientRetryBudget,
	}
	id := changesetting.ChangeSettingID(db, setting)
	return c.start(ctx, c.startOptions(id, changesetting.KindChangeSetting, db, requester, fmt.Sprintf("Set %s on %s to %s", setting, db, normalized)),
		changesetting.ChangeSetting, changesetting.ChangeSettingInput{
			Wiki: db, Setting: setting, Value: string(normalized), Requester: requester, Reason: reason,
			Options: o, Definition: changesetting.ChangeSettingDefinition(o),
		})
}

// RequestWiki files a wiki request for review.
func (c *Client) RequestWiki(ctx context.Context, req CreateWikiRequest, reason string) (process.Status, error) {
	rules := activities.WikiRules{Suffix: c.Config.MediaWiki.DBSuffix}
	if err := rules.Check(req.Wiki, req.Requester); err != nil {
		return process.Status{}, refused("%v", err)
	}
	def, err := c.CreateWikiDefinition()
	if err != nil {
		return process.Status{}, err
	}
	id := requestwiki.RequestWikiID(req.Wiki.DB)
	return c.start(ctx, c.startOptions(id, requestwiki.KindRequestWiki, req.Wiki.DB, req.Requester, fmt.Sprintf("Request for wiki %s (%q) by %s", req.Wiki.DB, req.Wiki.Sitename, req.Requester)),
		requestwiki.RequestWiki, requestwiki.RequestWikiInput{
			Wiki: req.Wiki, Requester: req.Requester, Email: req.Email, Reason: reason, Create: def,
			Options: requestwiki.RequestWikiOptions{
				CentralWiki: c.Config.MediaWiki.CentralWiki, MoreDetailsTimeout: c.Config.Processes.MoreDetailsTimeout,
				Reviewers: c.Config.Processes.RequestReviewers,
			},
		})
}

// Decide sends approve, decline or cancel to a process's approval gate and
// returns the status after it.
func (c *Client) Decide(ctx context.Context, id string, action process.Decision, user, comment string) (process.Status, error) {
	if _, err := c.update(ctx, id, process.UpdateDecide, process.DecideRequest{Action: action, User: user, Comment: comment}); err != nil {
		return process.Status{}, err
	}
	return c.Status(ctx, id)
}

// Review sends hold, more-details or edit-request to a wiki request.
func (c *Client) Review(ctx context.Context, id string, r requestwiki.ReviewRequest) (process.Status, error) {
	if _, err := c.update(ctx, id, requestwiki.UpdateReview, r); err != nil {
		return process.Status{}, err
	}
	return c.Status(ctx, id)
}
