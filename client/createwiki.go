package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
)

// CreateWikiRequest is what a person asks for.
type CreateWikiRequest struct {
	Wiki      process.WikiSpec
	Requester string
	Email     string
}

// CreateWiki starts the creation of a wiki and gets the workflow's answer
// to its validation in the same round trip; an invalid or duplicate request
// comes back as a RefusedError. It returns the process ID.
func (c *Client) CreateWiki(ctx context.Context, req CreateWikiRequest) (string, error) {
	rules := activities.WikiRules{Suffix: c.Config.MediaWiki.DBSuffix}
	if err := rules.Check(req.Wiki, req.Requester); err != nil {
		return "", refused("%v", err)
	}
	def, err := c.CreateWikiDefinition()
	if err != nil {
		return "", err
	}
	id := createwiki.CreateWikiID(req.Wiki.DB)
	if err := c.checkPrevious(ctx, id, req.Wiki.DB); err != nil {
		return "", err
	}
	opts := c.startOptions(id, createwiki.KindCreateWiki, req.Wiki.DB, req.Requester,
		fmt.Sprintf("Create wiki %s (%q, %s) for %s", req.Wiki.DB, req.Wiki.Sitename, req.Wiki.Language, req.Requester))
	_, open, err := c.startChecked(ctx, opts, createwiki.CreateWiki, createwiki.CreateWikiInput{
		Wiki: req.Wiki, Requester: req.Requester, Email: req.Email, Definition: def,
	})
	var refusal *RefusedError
	switch {
	case open:
		return id, refused("the wiki %s is being created (process %s)", req.Wiki.DB, id)
	case errors.As(err, &refusal):
		return id, err
	case err != nil:
		return "", err
	}
	return id, nil
}

// checkPrevious refuses a creation while another one of the same wiki runs
// (waiting for one that only stores its last events) or after one
// completed; after a failed or aborted one a new run may start (its
// validation still refuses a wiki that exists).
func (c *Client) checkPrevious(ctx context.Context, id, db string) error {
	desc, err := c.Temporal.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if desc.WorkflowExecutionInfo.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		// One that has ended and stores its last events is waited for.
		closed, err := c.waitClosing(ctx, desc.WorkflowExecutionInfo)
		if err != nil {
			return err
		}
		if !closed {
			return refused("the wiki %s is being created (process %s)", db, id)
		}
	}
	if st, err := c.Status(ctx, id); err == nil && st.State == process.StateCompleted {
		return refused("the wiki %s already exists (created by process %s)", db, id)
	}
	return nil
}

// CreateWikiDefinition builds the definition new creations run with, from
// the configuration.
func (c *Client) CreateWikiDefinition() (process.Definition, error) {
	extras, err := extraSteps(c.Config.Processes.CreateWikiExtraSteps, c.Config.Processes.TransientRetryBudget)
	if err != nil {
		return process.Definition{}, err
	}
	def := createwiki.CreateWikiDefinition(createwiki.CreateWikiOptions{
		AttentionWindow: c.Config.Processes.AttentionWindow,
		CentralWiki:     c.Config.MediaWiki.CentralWiki,
		ExtraSteps:      extras,
		RetryBudget:     c.Config.Processes.TransientRetryBudget,
	})
	if err := def.Validate(); err != nil {
		return process.Definition{}, &UsageError{Msg: "processes.create_wiki_extra_steps: " + err.Error()}
	}
	return def, nil
}
