package service

import (
	"context"
	"sync"

	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/eventsink"
	"github.com/wikiflow/wikiflow/farmdb"
)

// EventPublishers are the publishers of the sinks events configures (none
// when neither events.nats_url nor events.eventgate_url is set).
func (d *Deps) EventPublishers(cfg config.Events) []*eventsink.Publisher {
	var sinks []eventsink.Sink
	if cfg.NATSURL != "" {
		sinks = append(sinks, &eventsink.NATS{
			URL: cfg.NATSURL, Subject: cfg.NATSSubject, Stream: cfg.NATSStream,
			DuplicateWindow: cfg.NATSDuplicateWindow, Logger: d.Logger,
		})
	}
	if cfg.EventGateURL != "" {
		sinks = append(sinks, &eventsink.EventGate{URL: cfg.EventGateURL, Logger: d.Logger})
	}
	var out []*eventsink.Publisher
	for _, s := range sinks {
		out = append(out, &eventsink.Publisher{
			Sink:         s,
			Store:        farmdb.Outbox{Central: d.Central},
			Lock:         &eventsink.DBLock{DB: d.Central.DB, Name: eventsink.LockName(s.Name())},
			Filter:       farmdb.ReadFilter{IncludePrivate: cfg.IncludePrivate},
			BatchSize:    cfg.BatchSize,
			PollInterval: cfg.PollInterval,
			Logger:       d.Logger,
			Metrics:      d.Metrics.Handler,
		})
	}
	return out
}

// StartEventSinks runs the configured publishers until ctx ends; the
// returned function waits for them to stop (each gives its lock back and
// closes its sink). Run it after NewWorker, which creates the outbox.
func (d *Deps) StartEventSinks(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	for _, p := range d.EventPublishers(d.Config.Events) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { _ = p.Sink.Close() }()
			p.Run(ctx)
		}()
	}
	return wg.Wait
}
