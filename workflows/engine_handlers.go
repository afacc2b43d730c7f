package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/process"
)

// listen registers the status query, the retry-step/abort updates and the
// signals of the same names.
//
// An update whose validator rejects it (unknown step, step not failed,
// process not open) never reaches the history, so it is not in
// Status.Actions: the caller gets the error. Everything decided after that,
// and every signal, is recorded.
func (e *engine) listen(ctx workflow.Context, serveQuery bool) error {
	if serveQuery {
		if err := workflow.SetQueryHandler(ctx, process.QueryStatus, func() (process.Status, error) {
			return *e.st, nil
		}); err != nil {
			return err
		}
	}
	e.retries = &Inbox[process.RetryRequest, process.RetryRequest, process.Status]{
		Update: process.UpdateRetryStep, Signals: []string{process.SignalRetryStep},
		FromSignal: func(_ string, r process.RetryRequest) process.RetryRequest { return r },
		Validate:   func(_ workflow.Context, r process.RetryRequest) error { return e.checkRetry(r) },
		Decide: func(ctx workflow.Context, r process.RetryRequest) (process.Status, error) {
			err := e.retry(ctx, r)
			return *e.st, err
		},
		Late: func(ctx workflow.Context, r process.RetryRequest) {
			e.record(process.ActionRecord{User: r.User, Action: process.ActionRetry, Step: r.Step, Reason: e.closed, Time: workflow.Now(ctx)})
		},
	}
	e.aborts = &Inbox[process.AbortRequest, process.AbortRequest, process.Status]{
		Update: process.UpdateAbort, Signals: []string{process.SignalAbort},
		FromSignal: func(_ string, r process.AbortRequest) process.AbortRequest { return r },
		Validate:   func(_ workflow.Context, r process.AbortRequest) error { return e.checkOpen(r.User) },
		Decide: func(ctx workflow.Context, r process.AbortRequest) (process.Status, error) {
			err := e.abortProcess(ctx, r)
			return *e.st, err
		},
		Late: func(ctx workflow.Context, r process.AbortRequest) {
			e.record(process.ActionRecord{User: r.User, Action: process.ActionAbort, Reason: e.closed, Time: workflow.Now(ctx)})
		},
	}
	// Both updates first, then both signal loops: the order the handlers
	// and coroutines had before the inbox, which replays depend on.
	if err := e.retries.Handle(ctx); err != nil {
		return err
	}
	if err := e.aborts.Handle(ctx); err != nil {
		return err
	}
	e.retries.Serve(ctx)
	e.aborts.Serve(ctx)
	return nil
}

// drainSignals records the signals that arrived too late to be decided.
func (e *engine) drainSignals(ctx workflow.Context) {
	e.retries.Drain(ctx)
	e.aborts.Drain(ctx)
}

func (e *engine) retry(ctx workflow.Context, r process.RetryRequest) error {
	rec := process.ActionRecord{User: r.User, Action: process.ActionRetry, Step: r.Step}
	return e.decide(ctx, rec, func() error { return e.checkRetry(r) }, func() {
		i := e.index[r.Step]
		e.st.Steps[i].State, e.st.Steps[i].Error = process.StepPending, ""
		e.forced[i] = true
	})
}

func (e *engine) abortProcess(ctx workflow.Context, r process.AbortRequest) error {
	rec := process.ActionRecord{User: r.User, Action: process.ActionAbort, Reason: r.Reason}
	return e.decide(ctx, rec, func() error { return e.checkOpen(r.User) }, func() {
		e.abort = &r
	})
}

// decide runs one request: check, authorize, check again (the state may have
// moved while the authorize activity ran), apply. The user named in a
// request is only trusted once the authorize activity agrees.
func (e *engine) decide(ctx workflow.Context, rec process.ActionRecord, check func() error, apply func()) error {
	err := check()
	if err == nil {
		var canonical string
		canonical, err = e.authorize(ctx, rec.User)
		if canonical != "" {
			rec.User = canonical // as MediaWiki names the account
		}
	}
	if err == nil {
		err = check()
	}
	rec.Time = workflow.Now(ctx)
	if err != nil {
		rec.Reason = err.Error()
		e.record(rec)
		return temporal.NewNonRetryableApplicationError(err.Error(), process.ErrTypeRefused, nil)
	}
	rec.Accepted = true
	e.record(rec)
	apply()
	e.changed = true
	return nil
}

func (e *engine) record(rec process.ActionRecord) {
	e.st.Actions = append(e.st.Actions, rec)
}

// checkOpen says why the process takes no request now, or nil.
func (e *engine) checkOpen(user string) error {
	switch {
	case user == "":
		return errors.New("no user given")
	case e.closed != "":
		return errors.New(e.closed)
	case e.abort != nil:
		return errors.New("the process is being aborted")
	}
	return nil
}

func (e *engine) checkRetry(r process.RetryRequest) error {
	if err := e.checkOpen(r.User); err != nil {
		return err
	}
	i, ok := e.index[r.Step]
	if !ok {
		return fmt.Errorf("unknown step %q", r.Step)
	}
	if state := e.st.Steps[i].State; state != process.StepFailed {
		return fmt.Errorf("step %q is %s, not failed", r.Step, state)
	}
	return nil
}

// authorize runs the definition's authorize activity for user and returns
// the account's canonical name when MediaWiki gave one.
func (e *engine) authorize(ctx workflow.Context, user string) (string, error) {
	a := e.in.Definition.Authorize
	if a.Activity == "" {
		return "", nil
	}
	wiki := a.Wiki
	if wiki == "" {
		wiki = e.in.Wiki.DB
	}
	// The person asking waits for the answer: the decision budget.
	ctx = workflow.WithActivityOptions(ctx, decisionOptions(ctx, "authorize "+user, 30*time.Second,
		&temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumAttempts: 3}))
	check := func(wiki string, rights []process.Right) (process.AuthorizeResult, error) {
		var res process.AuthorizeResult
		in := process.AuthorizeInput{User: user, Wiki: wiki, AnyRight: rights}
		if err := workflow.ExecuteActivity(ctx, a.Activity, in).Get(ctx, &res); err != nil {
			return res, fmt.Errorf("could not check the rights of %s: %s", user, errorText(err))
		}
		return res, nil
	}
	res, err := check(wiki, a.AnyRight)
	if err != nil || res.Allowed {
		return res.User, err
	}
	// Version 1 added rights on the process's own wiki (a wiki's bureaucrat
	// re-triggers its steps); processes started before take the old path.
	if len(a.LocalRights) > 0 && !res.NoAccount && workflow.GetVersion(ctx, "authorize-local-rights", workflow.DefaultVersion, 1) >= 1 {
		local, err := check(e.in.Wiki.DB, a.LocalRights)
		if err != nil || local.Allowed {
			return local.User, err
		}
	}
	if res.Reason != "" {
		return res.User, fmt.Errorf("%s is not allowed: %s", user, res.Reason)
	}
	return res.User, fmt.Errorf("%s holds none of the rights %s on %s", user, process.JoinRights(a.AnyRight, ", "), wiki)
}
