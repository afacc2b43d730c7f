package service

import (
	"log/slog"
	"testing"

	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/eventsink"
	"github.com/wikiflow/wikiflow/farmdb"
)

// The configuration's sinks become publishers, each with its own cursor
// and lock; with neither URL set the worker publishes nowhere.
func TestEventPublishersFollowTheConfiguration(t *testing.T) {
	d := &Deps{Central: &farmdb.Central{}, Metrics: NewMetrics(slog.New(slog.DiscardHandler)), Logger: slog.New(slog.DiscardHandler)}
	t.Cleanup(func() { _ = d.Metrics.Close() })
	if ps := d.EventPublishers(config.Events{}); len(ps) != 0 {
		t.Fatalf("%d publishers without any sink configured", len(ps))
	}
	ps := d.EventPublishers(config.Events{
		NATSURL: "nats://127.0.0.1:4222", NATSSubject: "wikiflow.process.change", NATSStream: "WIKIFLOW",
		EventGateURL: "http://eventgate.example:8192/v1/events", BatchSize: 7, IncludePrivate: true,
	})
	if len(ps) != 2 {
		t.Fatalf("%d publishers, want 2", len(ps))
	}
	for i, want := range []string{"nats:WIKIFLOW", "eventgate:eventgate.example:8192"} {
		p := ps[i]
		if p.Sink.Name() != want || p.Lock.(*eventsink.DBLock).Name != "wikiflow-events-"+want ||
			p.BatchSize != 7 || !p.Filter.IncludePrivate {
			t.Errorf("publisher %d: sink %s, lock %s, batch %d, filter %+v", i, p.Sink.Name(), p.Lock.(*eventsink.DBLock).Name, p.BatchSize, p.Filter)
		}
	}
}
