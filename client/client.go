// Package client is the one path from a request to a workflow: the starter
// CLI and the wiki hook endpoint both use it, so a request is validated,
// named and started the same way whoever sends it.
package client

import (
	"context"
	"fmt"
	"sync"

	tclient "go.temporal.io/sdk/client"

	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/extensions"
	"github.com/wikiflow/wikiflow/settings"
	"github.com/wikiflow/wikiflow/workflows"
)

// Client starts, signals and reads processes.
type Client struct {
	Temporal tclient.Client
	Config   *config.Config

	registryOnce sync.Once
	registry     *settings.Registry
	registryErr  error

	extensionsOnce sync.Once
	extensions     *extensions.Registry
	extensionsErr  error
}

// Settings is the farm's settings registry, read once per client.
func (c *Client) Settings() (*settings.Registry, error) {
	c.registryOnce.Do(func() {
		c.registry, c.registryErr = settings.Load(c.Config.MediaWiki.SettingsRegistry)
		if c.registryErr != nil {
			c.registryErr = &UsageError{Msg: "mediawiki.settings_registry: " + c.registryErr.Error()}
		}
	})
	return c.registry, c.registryErr
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
