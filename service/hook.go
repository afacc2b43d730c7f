package service

import (
	"net/http"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/hook"
)

// HookHandler is the wikis' signed endpoint, starting and signalling
// processes through the same client as the CLI, on taskQueue's workers.
func (d *Deps) HookHandler(c *client.Client) (http.Handler, error) {
	secret, err := d.Config.HookSecret()
	if err != nil {
		return nil, err
	}
	reg, err := c.Settings()
	if err != nil {
		return nil, err
	}
	s := &hook.Server{Client: c, Secret: secret, Settings: reg, Readers: d.Readers(), Logger: d.Logger,
		// Every worker serving the endpoint shares the replay record.
		Replays: farmdb.HookReplays{Central: d.Central}, Metrics: d.Metrics.Handler}
	return s.Handler(), nil
}
