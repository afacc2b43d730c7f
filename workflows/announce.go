package workflows

import (
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

// gatherEvents names the version from which the announcer gathers the
// changes of up to eventWindow into one store, and stores at once only
// when the process settles. Each store is an activity whose completion
// wakes the workflow for a task of its own: storing every step's changes
// as they came cost a short process as many extra workflow tasks as it
// had steps (the 10-step engine benchmark 1.48x a hand-written workflow).
// A process shorter than the window now stores once, at its end. Histories
// recorded before it store each batch as soon as it is numbered. New
// processes no longer record it: announceEvents at version
// announceGathered says the same with one marker instead of two (each
// marker also rewrites the TemporalChangeVersion search attribute, a
// visibility write on the server's database at every start).
const gatherEvents = "gather-events"

// announceGathered is the version of announceEvents that announces and
// gathers.
const announceGathered = 2

// eventWindow is how long a change may wait for the next ones before it
// is stored: how late, at most, an event of a running process reaches the
// outbox (its end is never late: Settle stores at once).
const eventWindow = time.Second

// storeEventsOptions: the events go to the outbox through an activity,
// never a local one. A local activity writes before its workflow task is
// recorded; when the worker dies in between, the task runs again on more
// history, numbers a different batch of changes from the same sequence,
// and the outbox, which keeps the first event of each id, keeps the wrong
// one (a step announced "running" that ended "succeeded"). An activity's
// events are in the history before they are written, the same on every
// attempt. The outbox is the central database, which a routine restart
// takes away for seconds to minutes: storing is retried until it
// succeeds, and only the announcer waits for it. The process goes on, and
// waits only when it ends, so that its last events are stored before it
// closes. A store takes milliseconds; StartToClose only bounds how long an
// attempt on a worker that died is waited for.
var storeEventsOptions = workflow.ActivityOptions{
	StartToCloseTimeout: 10 * time.Second,
	Summary:             "store events",
	RetryPolicy: &temporal.RetryPolicy{
		InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
	},
}

// Announcer turns a process's status changes into events. One coroutine
// wakes whenever the status differs from the one it last saw and numbers
// the difference (events.Changes); another stores what is numbered in the
// outbox, one activity at a time, so that a change made while a store is
// on its way is numbered when it happens, not merged into the next one.
// Its sequence numbers, the ids made from them and the events each id
// names are the same on every replay.
type Announcer struct {
	st      *process.Status
	last    process.Status
	seq     int
	pending []events.ProcessChange
	private *bool
	busy    bool
	on      bool
	// gather: changes wait up to eventWindow for the next (gatherEvents);
	// settling: the process waits until every change so far is stored
	// (Settle at its end, Flush before it starts another process).
	gather   bool
	settling bool
}

// Announce starts announcing st's changes, from the announce-events
// version on. knownPrivate is the privacy of the wiki the process was asked
// to create, when it was asked to; nil otherwise. Call it once, before the
// process changes its status; Settle before the workflow returns.
func Announce(ctx workflow.Context, st *process.Status, knownPrivate *bool) *Announcer {
	a := &Announcer{st: st, private: knownPrivate}
	switch workflow.GetVersion(ctx, announceEvents, workflow.DefaultVersion, announceGathered) {
	case workflow.DefaultVersion:
		return a
	case 1:
		a.gather = workflow.GetVersion(ctx, gatherEvents, workflow.DefaultVersion, 1) >= 1
	default:
		a.gather = true
	}
	a.on = true
	run := events.Run{ProcessID: workflow.GetInfo(ctx).WorkflowExecution.ID, RunID: workflow.GetInfo(ctx).WorkflowExecution.RunID}
	// Disconnected: a cancelled process still announces how it ended.
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var evs []events.ProcessChange
			if workflow.Await(ctx, func() bool {
				evs = events.Changes(run, &a.last, a.st, a.seq+1, workflow.Now(ctx))
				return len(evs) > 0
			}) != nil {
				return
			}
			a.last = events.Snapshot(a.st)
			a.seq += len(evs)
			a.pending = append(a.pending, evs...)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		actx := workflow.WithActivityOptions(ctx, storeEventsOptions)
		for {
			if workflow.Await(ctx, func() bool { return len(a.pending) > 0 }) != nil {
				return
			}
			if a.gather {
				if _, err := workflow.AwaitWithOptions(ctx, gatherOptions, func() bool { return a.settling }); err != nil {
					return
				}
			}
			evs := a.pending
			a.pending = nil
			a.busy = true
			a.private = a.store(actx, evs)
			a.busy = false
		}
	})
	return a
}

// gatherOptions: the timer that ends a window shows in the Web UI as
// what it is.
var gatherOptions = workflow.AwaitOptions{Timeout: eventWindow, TimerOptions: workflow.TimerOptions{Summary: "gather events"}}

// store stores evs and returns the privacy they were stored with. Its
// retries outlast any outage; only an error no retry mends (an event that
// cannot be encoded) gives up, and the worker's log says so.
func (a *Announcer) store(ctx workflow.Context, evs []events.ProcessChange) *bool {
	var res activities.StoreEventsResult
	err := workflow.ExecuteActivity(ctx, activities.NameStoreEvents,
		activities.StoreEventsInput{Events: evs, KnownPrivate: a.private}).Get(ctx, &res)
	if err != nil {
		workflow.GetLogger(ctx).Error("events not stored", "error", err, "first", evs[0].Meta.ID, "count", len(evs))
		return a.private
	}
	return &res.Private
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

// Flush stores every change of the status so far before the process
// starts another process, so that the other's events follow the ones that
// led to it (a request's approval before its wiki's creation). Before
// gatherEvents every change was stored at once and Flush waits for
// nothing, as those histories did.
func (a *Announcer) Flush(ctx workflow.Context) {
	if !a.gather {
		return
	}
	a.Settle(ctx)
	a.settling = false
}

// Settle waits until every change of the status so far is stored.
func (a *Announcer) Settle(ctx workflow.Context) {
	if !a.on {
		return
	}
	a.settling = true
	ctx, _ = workflow.NewDisconnectedContext(ctx)
	_ = workflow.Await(ctx, func() bool {
		return !a.busy && len(a.pending) == 0 && len(events.Changes(events.Run{}, &a.last, a.st, 1, time.Time{})) == 0
	})
}
