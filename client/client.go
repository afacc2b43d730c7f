// Package client is the one path from a request to a workflow: the starter
// CLI and the wiki hook endpoint both use it, so a request is validated,
// named and started the same way whoever sends it.
package client

import (
	"context"
	"fmt"

	tclient "go.temporal.io/sdk/client"

	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/workflows"
)

// Client starts, signals and reads processes.
type Client struct {
	Temporal tclient.Client
	Config   *config.Config
}

// InspectWiki runs the InspectWiki workflow and waits for its answer.
func (c *Client) InspectWiki(ctx context.Context, db string) (workflows.InspectWikiResult, error) {
	if err := ValidateDBName(db); err != nil {
		return workflows.InspectWikiResult{}, err
	}
	run, err := c.Temporal.ExecuteWorkflow(ctx, tclient.StartWorkflowOptions{
		TaskQueue:     c.Config.Temporal.TaskQueue,
		StaticSummary: fmt.Sprintf("Inspect %s", db),
	}, workflows.InspectWiki, workflows.InspectWikiInput{DB: db})
	if err != nil {
		return workflows.InspectWikiResult{}, err
	}
	var out workflows.InspectWikiResult
	err = run.Get(ctx, &out)
	return out, err
}
