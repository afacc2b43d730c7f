//go:build integration

package integration

import (
	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/config"
)

// clientWith is a client on a copy of the tests' configuration, changed by
// change; the worker that takes its work must read the same change.
func clientWith(change func(cfg *config.Config)) *client.Client {
	cfg := *deps.Config
	change(&cfg)
	return &client.Client{Temporal: deps.Temporal, Config: &cfg}
}

// queueClient is a client whose processes go to their own task queue.
func queueClient(queue string) *client.Client {
	return clientWith(func(cfg *config.Config) { cfg.Temporal.TaskQueue = queue })
}
