package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/activities"
	"github.com/wikiflow/wikiflow/events"
	"github.com/wikiflow/wikiflow/process"
)

// announceEvents names the version from which processes announce their
// changes as events (package events). Histories recorded before it have no
// events and replay without them.
const announceEvents = "announce-events"

// storeEventsOptions: the outbox is the central database, which a routine
// restart takes away for seconds to minutes. Storing is retried until it
// succeeds (store), and only the announcer waits for it: the process goes
// on, and waits only when it ends, so that its last events are stored
// before it closes.
var storeEventsOptions = workflow.LocalActivityOptions{
	StartToCloseTimeout:    30 * time.Second,
	ScheduleToCloseTimeout: 2 * time.Minute,
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
	},
}

// storeEventsPause is the wait between two rounds of local retries.
const storeEventsPause = time.Minute

// Announcer turns a process's status changes into events: it runs beside
// the process, wakes whenever the status differs from the one it last
// announced, and stores the difference (events.Changes) in the outbox with
// one local activity per workflow task. Its sequence numbers and the ids
// made from them are the same on every replay.
type Announcer struct {
	st      *process.Status
	last    process.Status
	seq     int
	private *bool
	busy    bool
	on      bool
}

// Announce starts announcing st's changes, from the announce-events
// version on. knownPrivate is the privacy of the wiki the process was asked
// to create, when it was asked to; nil otherwise. Call it once, before the
// process changes its status; Settle before the workflow returns.
func Announce(ctx workflow.Context, st *process.Status, knownPrivate *bool) *Announcer {
	a := &Announcer{st: st, private: knownPrivate}
	if workflow.GetVersion(ctx, announceEvents, workflow.DefaultVersion, 1) < 1 {
		return a
	}
	a.on = true
	run := events.Run{ProcessID: workflow.GetInfo(ctx).WorkflowExecution.ID, RunID: workflow.GetInfo(ctx).WorkflowExecution.RunID}
	// Disconnected: a cancelled process still announces how it ended.
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	lctx := workflow.WithLocalActivityOptions(ctx, storeEventsOptions)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var evs []events.ProcessChange
			if workflow.Await(ctx, func() bool {
				evs = events.Changes(run, &a.last, a.st, a.seq+1, workflow.Now(ctx))
				return len(evs) > 0
			}) != nil {
				return
			}
			a.busy = true
			a.last = events.Snapshot(a.st)
			a.seq += len(evs)
			a.private = a.store(ctx, lctx, evs)
			a.busy = false
		}
	})
	return a
}

// store stores evs and returns the privacy they were stored with. An
// outage longer than the local activity's retries (a database restart) is
// waited out on a timer, and the same events, with the same ids, are
// stored again: only an error no retry mends (an event that cannot be
// encoded) gives up, and the worker's log says so.
func (a *Announcer) store(ctx, lctx workflow.Context, evs []events.ProcessChange) *bool {
	for {
		var res activities.StoreEventsResult
		err := workflow.ExecuteLocalActivity(lctx, activities.NameStoreEvents,
			activities.StoreEventsInput{Events: evs, KnownPrivate: a.private}).Get(ctx, &res)
		if err == nil {
			return &res.Private
		}
		var app *temporal.ApplicationError
		if errors.As(err, &app) && app.NonRetryable() {
			workflow.GetLogger(ctx).Error("events not stored", "error", err, "first", evs[0].Meta.ID, "count", len(evs))
			return a.private
		}
		workflow.GetLogger(ctx).Warn("events not stored yet; trying again", "error", err, "pause", storeEventsPause)
		_ = workflow.Sleep(ctx, storeEventsPause)
	}
}

// Follow makes the announcer watch st from now on: a process whose engine
// builds a status of its own (workflows.RunProcess inside a creation that
// validated first) goes on with the same sequence.
func (a *Announcer) Follow(st *process.Status) { a.st = st }

type announcerKey struct{}

// WithAnnouncer hands a to the RunProcess called with the returned context,
// which then announces through it instead of starting its own.
func WithAnnouncer(ctx workflow.Context, a *Announcer) workflow.Context {
	return workflow.WithValue(ctx, announcerKey{}, a)
}

// Settle waits until every change of the status so far is stored.
func (a *Announcer) Settle(ctx workflow.Context) {
	if !a.on {
		return
	}
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	_ = workflow.Await(ctx, func() bool {
		return !a.busy && len(events.Changes(events.Run{}, &a.last, a.st, 1, time.Time{})) == 0
	})
}
