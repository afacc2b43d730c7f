// Package eventsink delivers the event outbox (farmdb.Outbox) to the
// farm's brokers: a NATS JetStream stream (NATS) and an EventGate-compatible
// HTTP intake (EventGate). A Publisher runs one sink: it reads the events
// after the sink's cursor, hands them to the sink in the outbox's order and
// records the new cursor, again and again.
//
// Delivery is at least once: a worker that dies after a sink took events
// and before the cursor was written hands them over again when it, or
// another worker, takes over. The NATS sink makes that exactly once in the
// stream (JetStream drops a message whose Nats-Msg-Id it has seen within its
// duplicate window); an EventGate intake may see such an event twice.
//
// Only one worker of the farm publishes to a sink at a time: it holds a
// MariaDB named lock (GET_LOCK) on a connection of its own; the others try
// to take it now and then and keep the lag on their /metrics. A sink that
// is down or slow holds up nothing but its own publisher: processes only
// ever write to the outbox, and the publisher retries with a growing pause,
// logging once per outage.
package eventsink

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/wikiflow/wikiflow/farmdb"
)

// Names of the sinks' metrics on the worker's /metrics, each labelled with
// the sink (MetricSinkTag). Every worker keeps the lag, the one publishing
// the rest: across workers, take max() (or sum() of the counters).
const (
	// MetricLag is how many events of the outbox the sink has not been
	// handed yet: the outbox's head minus the sink's cursor.
	MetricLag = "wikiflow_event_sink_lag_events"
	// MetricLastDelivery is when this worker last handed the sink events
	// (Unix time in seconds; 0 before the first time).
	MetricLastDelivery = "wikiflow_event_sink_last_delivery_timestamp_seconds"
	// MetricPublishing is 1 on the worker that publishes to the sink now
	// (it holds the sink's lock), 0 on the others.
	MetricPublishing = "wikiflow_event_sink_publishing"
	// MetricDelivered counts the events the sink took.
	MetricDelivered = "wikiflow_event_sink_delivered"
	// MetricRefused counts the events the sink refused for good (an
	// EventGate intake that finds them invalid): logged and skipped.
	MetricRefused = "wikiflow_event_sink_refused"
	// MetricFailures counts the deliveries that failed and are retried.
	MetricFailures = "wikiflow_event_sink_failures"

	MetricSinkTag = "sink"
)

// Sink is where a Publisher delivers events.
type Sink interface {
	// Name names the sink's cursor (wf_event_cursors) and lock, and its
	// metrics' label.
	Name() string
	// Deliver hands over events, in order. Its Result tells how many of
	// them, from the first, are done (taken, or refused for good); an error
	// says why the rest are not, and they are handed over again later.
	Deliver(ctx context.Context, evs []farmdb.StoredEvent) (Result, error)
	Close() error
}

// Result is what a delivery did.
type Result struct {
	// Done is how many of the events, from the first, need no delivery again.
	Done int
	// Refused is how many of those the sink refused for good.
	Refused int
}

// Store is the outbox as a Publisher uses it (farmdb.Outbox).
type Store interface {
	Read(ctx context.Context, after int64, limit int, f farmdb.ReadFilter) ([]farmdb.StoredEvent, error)
	Head(ctx context.Context) (int64, error)
	Cursor(ctx context.Context, sink string) (int64, error)
	SetCursor(ctx context.Context, sink string, seq int64) error
}

// Lock makes one worker of the farm the sink's publisher (DBLock).
type Lock interface {
	// TryAcquire takes the lock if nobody holds it, without waiting.
	TryAcquire(ctx context.Context) (bool, error)
	// Held fails when the lock, once taken, is no longer this worker's.
	Held(ctx context.Context) error
	// Release gives the lock up (nothing when it is not held).
	Release()
}

// Publisher delivers the outbox to one sink.
type Publisher struct {
	Sink  Sink
	Store Store
	Lock  Lock
	// Filter chooses the events (Stream, IncludePrivate; Wiki is left empty).
	Filter farmdb.ReadFilter
	// BatchSize is how many events the sink is handed at once.
	BatchSize int
	// PollInterval is the pause between reads once the sink has caught up.
	PollInterval time.Duration
	// LockInterval is how often a worker that does not publish tries to
	// take the lock, and refreshes the lag (default 5 s).
	LockInterval time.Duration
	// MinBackoff and MaxBackoff bound the pause after a failure, which
	// doubles from one to the other (defaults 1 s and 10 s: a sink that
	// comes back gets its events at most 10 s later).
	MinBackoff, MaxBackoff time.Duration
	Logger                 *slog.Logger
	// Metrics receives the metrics above (nil: none).
	Metrics client.MetricsHandler
}

// errLockLost is a lock found no longer held.
var errLockLost = errors.New("the sink's lock was lost")

// Run publishes until ctx ends, then releases the lock. It returns nothing:
// every failure is logged and retried.
func (p *Publisher) Run(ctx context.Context) {
	p.defaults()
	defer p.Lock.Release()
	log := p.Logger.With("sink", p.Sink.Name())
	holding := false
	p.gauge(MetricPublishing, 0)
	var o, lockOutage outage
	backoff := p.MinBackoff
	for ctx.Err() == nil {
		if !holding {
			held, err := p.Lock.TryAcquire(ctx)
			switch {
			case err != nil:
				if ctx.Err() == nil {
					lockOutage.failed(log, "cannot take the sink's lock (does the central database answer?): trying again", err)
				}
			case held:
				holding = true
				p.gauge(MetricPublishing, 1)
				log.Info("this worker publishes to the sink")
				fallthrough
			default:
				lockOutage.recovered(log, "the sink's lock can be taken again")
			}
			if !holding {
				p.refreshLag(ctx)
				sleep(ctx, p.LockInterval)
				continue
			}
		}
		n, fromSink, err := p.step(ctx)
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, errLockLost):
			holding = false
			p.gauge(MetricPublishing, 0)
			log.Warn("this worker no longer holds the sink's lock: it stops publishing, another worker may take over", "error", err)
			p.Lock.Release()
		case err != nil:
			p.counter(MetricFailures, 1)
			msg := "the sink does not take events: they wait in the outbox and are retried"
			if !fromSink {
				msg = "the outbox cannot be read or the cursor written (does the central database answer?): retrying"
			}
			o.failed(log, msg, err)
			sleep(ctx, backoff)
			backoff = min(2*backoff, p.MaxBackoff)
		default:
			if o.recovered(log, "events flow to the sink again") {
				backoff = p.MinBackoff
			}
			if n < p.BatchSize {
				sleep(ctx, p.PollInterval)
			}
		}
	}
	p.gauge(MetricPublishing, 0)
}

// step hands the sink one batch and records the cursor; it tells how many
// events are done, and whether an error is the sink's.
func (p *Publisher) step(ctx context.Context) (int, bool, error) {
	if err := p.Lock.Held(ctx); err != nil {
		return 0, false, errors.Join(errLockLost, err)
	}
	n, err := p.batch(ctx)
	var se sinkError
	return n, errors.As(err, &se), err
}

// sinkError is a failure of the sink, not of the outbox.
type sinkError struct{ error }

func (e sinkError) Unwrap() error { return e.error }

func (p *Publisher) batch(ctx context.Context) (int, error) {
	name := p.Sink.Name()
	cursor, err := p.Store.Cursor(ctx, name)
	if err != nil {
		return 0, err
	}
	// Every event up to the head is committed (the outbox numbers them in
	// commit order), so a read that returns less than a batch has seen
	// them all: the cursor may then move to the head even when the filter
	// left the last ones out.
	head, err := p.Store.Head(ctx)
	if err != nil {
		return 0, err
	}
	evs, err := p.Store.Read(ctx, cursor, p.BatchSize, p.Filter)
	if err != nil {
		return 0, err
	}
	if len(evs) == 0 {
		if head > cursor {
			if err := p.Store.SetCursor(ctx, name, head); err != nil {
				return 0, err
			}
			cursor = head
		}
		p.gauge(MetricLag, float64(head-cursor))
		return 0, nil
	}
	res, derr := p.Sink.Deliver(ctx, evs)
	if derr != nil {
		derr = sinkError{derr}
	}
	res.Done = max(0, min(res.Done, len(evs)))
	if res.Done == 0 {
		p.gauge(MetricLag, float64(max(head, evs[len(evs)-1].Seq)-cursor))
		return 0, derr
	}
	next := evs[res.Done-1].Seq
	if res.Done == len(evs) && len(evs) < p.BatchSize {
		next = max(next, head)
	}
	p.counter(MetricDelivered, int64(res.Done-res.Refused))
	if res.Refused > 0 {
		p.counter(MetricRefused, int64(res.Refused))
	}
	p.gauge(MetricLastDelivery, float64(time.Now().UnixMilli())/1000)
	if err := p.Store.SetCursor(ctx, name, next); err != nil {
		// Handed over again after the retry: the sink sees them twice
		// (the NATS stream drops the second copies).
		return 0, errors.Join(derr, err)
	}
	p.gauge(MetricLag, float64(max(0, max(head, next)-next)))
	return res.Done, derr
}

// refreshLag shows the lag on a worker that does not publish.
func (p *Publisher) refreshLag(ctx context.Context) {
	if p.Metrics == nil {
		return
	}
	cursor, err := p.Store.Cursor(ctx, p.Sink.Name())
	if err != nil {
		return
	}
	head, err := p.Store.Head(ctx)
	if err != nil {
		return
	}
	p.gauge(MetricLag, float64(max(0, head-cursor)))
}

func (p *Publisher) defaults() {
	if p.BatchSize < 1 {
		p.BatchSize = 100
	}
	if p.PollInterval <= 0 {
		p.PollInterval = time.Second
	}
	if p.LockInterval <= 0 {
		p.LockInterval = 5 * time.Second
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = time.Second
	}
	if p.MaxBackoff < p.MinBackoff {
		p.MaxBackoff = max(10*time.Second, p.MinBackoff)
	}
	if p.Logger == nil {
		p.Logger = slog.New(slog.DiscardHandler)
	}
}

func (p *Publisher) gauge(name string, v float64) {
	if p.Metrics != nil {
		p.Metrics.WithTags(map[string]string{MetricSinkTag: p.Sink.Name()}).Gauge(name).Update(v)
	}
}

func (p *Publisher) counter(name string, n int64) {
	if p.Metrics != nil && n > 0 {
		p.Metrics.WithTags(map[string]string{MetricSinkTag: p.Sink.Name()}).Counter(name).Inc(n)
	}
}

// outage logs a failure once, when it starts, and its end.
type outage struct {
	since    time.Time
	failures int
}

func (o *outage) failed(log *slog.Logger, msg string, err error) {
	if o.failures == 0 {
		o.since = time.Now()
		log.Warn(msg, "error", err)
	}
	o.failures++
}

// recovered logs the end of an outage, if there was one, and tells so.
func (o *outage) recovered(log *slog.Logger, msg string) bool {
	if o.failures == 0 {
		return false
	}
	log.Info(msg, "after", time.Since(o.since).Round(time.Millisecond).String(), "failed_attempts", o.failures)
	*o = outage{}
	return true
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
