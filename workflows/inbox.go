package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/process"
)

// Inbox takes one kind of request that arrives both as an update, whose
// sender waits for the answer (the CLI), and as signals, which a wiki hook
// fires and forgets. Both are decided by the same function, signals one at
// a time per channel, so a hook firing twice has its second request
// decided on the state the first one left.
//
// Drain, called right before the workflow returns, waits for the requests
// still being decided (signals are not update handlers, so
// AllHandlersFinished does not count them) and records the signals still
// queued as too late: nothing a wiki sent is ever lost without a trace.
type Inbox[S, R, A any] struct {
	// Update is the update's name; Signals are the signals' names.
	Update  string
	Signals []string
	// FromSignal makes a request of a signal's payload.
	FromSignal func(signal string, s S) R
	// Validate rejects an update before it reaches the history; nil takes
	// every update.
	Validate func(ctx workflow.Context, r R) error
	// Decide decides one request and records it; its error is the
	// update's answer (a refusal), a signal's is in the record only.
	Decide func(ctx workflow.Context, r R) (A, error)
	// Late records a request that came after the process stopped deciding.
	Late func(ctx workflow.Context, r R)

	busy int // requests being decided
}

// Handle registers the update handler.
func (in *Inbox[S, R, A]) Handle(ctx workflow.Context) error {
	var opts workflow.UpdateHandlerOptions
	if in.Validate != nil {
		opts.Validator = func(ctx workflow.Context, r R) error { return in.Validate(ctx, r) }
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, in.Update, in.decide, opts)
}

// Serve starts one coroutine per signal, in the order of Signals: the
// order coroutines start in is part of what a replay checks.
func (in *Inbox[S, R, A]) Serve(ctx workflow.Context) {
	for _, name := range in.Signals {
		ch := workflow.GetSignalChannel(ctx, name)
		workflow.Go(ctx, func(ctx workflow.Context) {
			for {
				var s S
				ch.Receive(ctx, &s)
				_, _ = in.decide(ctx, in.FromSignal(name, s)) // recorded; nobody waits for the answer
			}
		})
	}
}

// Listen registers the update handler, then serves the signals.
func (in *Inbox[S, R, A]) Listen(ctx workflow.Context) error {
	if err := in.Handle(ctx); err != nil {
		return err
	}
	in.Serve(ctx)
	return nil
}

func (in *Inbox[S, R, A]) decide(ctx workflow.Context, r R) (A, error) {
	in.busy++
	defer func() { in.busy-- }()
	return in.Decide(ctx, r)
}

// Idle tells that no request is being decided.
func (in *Inbox[S, R, A]) Idle() bool { return in.busy == 0 }

// Drain waits for the requests being decided, then records every signal
// still queued as late, signal by signal in the order of Signals.
func (in *Inbox[S, R, A]) Drain(ctx workflow.Context) {
	_ = workflow.Await(ctx, in.Idle)
	for _, name := range in.Signals {
		ch := workflow.GetSignalChannel(ctx, name)
		for {
			var s S
			if !ch.ReceiveAsync(&s) {
				break
			}
			in.Late(ctx, in.FromSignal(name, s))
		}
	}
}

// PersonInbox is an Inbox of one person's action on a process (a deletion's
// undelete, a closed wiki's reopen), sent as the update and the signal both
// named action. judge decides a request and returns its record (accepted,
// reason, the name to record); every request, accepted or not, is appended
// to st.Actions, a refusal is the update's error, and a request after the
// process stopped deciding is recorded as late.
func PersonInbox(st *process.Status, action string,
	judge func(ctx workflow.Context, r process.DecisionSignal) process.ActionRecord,
) *Inbox[process.DecisionSignal, process.DecisionSignal, process.ActionRecord] {
	record := func(ctx workflow.Context, rec process.ActionRecord) process.ActionRecord {
		rec.Action, rec.Time = action, workflow.Now(ctx)
		st.Actions = append(st.Actions, rec)
		return rec
	}
	return &Inbox[process.DecisionSignal, process.DecisionSignal, process.ActionRecord]{
		Update: action, Signals: []string{action},
		FromSignal: func(_ string, r process.DecisionSignal) process.DecisionSignal { return r },
		Validate: func(_ workflow.Context, r process.DecisionSignal) error {
			if r.User == "" {
				return fmt.Errorf("%s needs a user", action)
			}
			return nil
		},
		Decide: func(ctx workflow.Context, r process.DecisionSignal) (process.ActionRecord, error) {
			rec := record(ctx, judge(ctx, r))
			if !rec.Accepted {
				return rec, temporal.NewApplicationError(rec.Reason, process.ErrTypeRefused)
			}
			return rec, nil
		},
		Late: func(ctx workflow.Context, r process.DecisionSignal) {
			_ = record(ctx, process.ActionRecord{User: r.User, Reason: "the process has ended"})
		},
	}
}
