package service

import (
	"net/http"

	"github.com/wikiflow/wikiflow/client"
	"github.com/wikiflow/wikiflow/farmdb"
	"github.com/wikiflow/wikiflow/hook"
	"github.com/wikiflow/wikiflow/stream"
)

// HookHandler is the wikis' signed endpoint, starting and signalling
// processes through the same client as the CLI, on taskQueue's workers;
// beside it, on the same listener, the event streams (package stream),
// which anyone may read and which check signatures themselves.
func (d *Deps) HookHandler(c *client.Client) (http.Handler, error) {
	secret, err := d.Config.HookSecret()
	if err != nil {
		return nil, err
	}
	reg, err := c.Settings()
	if err != nil {
		return nil, err
	}
	// Every worker serving the endpoint shares the replay record.
	replays := farmdb.HookReplays{Central: d.Central}
	s := &hook.Server{Client: c, Secret: secret, Settings: reg, Readers: d.Readers(), Logger: d.Logger,
		Replays: replays, Metrics: d.Metrics.Handler}
	streams := &stream.Server{Outbox: farmdb.Outbox{Central: d.Central}, Secret: secret, Replays: replays, Logger: d.Logger}
	mux := http.NewServeMux()
	mux.Handle(stream.Prefix, streams.Handler())
	mux.Handle("/", s.Handler())
	return mux, nil
}
