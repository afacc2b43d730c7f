package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/process"
)

// Frame is what every process with people in it does around its own work,
// in this order: it serves the status query and the checked update from
// the first moment (the process calls Accept once its request passed its
// checks); when the process's work returns, decisions still being checked
// get their answer, the gate and then each inbox record what is still
// queued as too late, the owned wikis are given back, and the state the
// process ends in is settled. A process embeds it and sets its fields as
// it goes.
type Frame struct {
	St       *process.Status
	ByPerson bool     // on the identity version (see KnowsPeople)
	Gate     *Gate    // once the process opened its approval gate
	Owned    []string // the wikis this process owns, once it does
	// KnownPrivate is the privacy of the wiki the process was asked to
	// create, for its events while the farm does not register it.
	KnownPrivate *bool
	checked      *Checked
	announcer    *Announcer
}

// Accept says the process took its request: the start's checked update
// answers now.
func (f *Frame) Accept() { f.checked.Accept() }

// RunSteps runs the frame's process's step graph on its wiki, for the
// requester as MediaWiki named them, with args.
func (f *Frame) RunSteps(ctx workflow.Context, def process.Definition, wiki string, requester process.Person, args map[string]string) (ProcessResult, error) {
	return RunSteps(ctx, ProcessInput{Definition: def, Wiki: process.WikiSpec{DB: wiki}, Requester: requester.Name, Args: args}, f.St)
}

// BeforeChild stores the process's changes so far; call it right before
// starting another process (see Announcer.Flush).
func (f *Frame) BeforeChild(ctx workflow.Context) { f.announcer.Flush(ctx) }

// Drainer is an inbox the frame drains when the process ends.
type Drainer interface{ Drain(ctx workflow.Context) }

// Run runs work inside the frame and returns the process's end error.
func (f *Frame) Run(ctx workflow.Context, work func(ctx workflow.Context) error, inboxes ...Drainer) error {
	f.announcer = Announce(ctx, f.St, f.KnownPrivate)
	if err := workflow.SetQueryHandler(ctx, process.QueryStatus, func() (process.Status, error) { return *f.St, nil }); err != nil {
		return err
	}
	var err error
	if f.checked, err = ListenChecked(ctx, f.St); err != nil {
		return err
	}
	err = work(ctx)
	f.checked.End()
	// Decisions being checked get their answer before the workflow ends.
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	if f.Gate != nil {
		f.Gate.Drain(ctx)
	}
	for _, in := range inboxes {
		in.Drain(ctx)
	}
	for _, wiki := range f.Owned {
		ReleaseWiki(ctx, wiki)
	}
	err = FinishState(ctx, f.St, err, f.ByPerson)
	f.announcer.Settle(ctx)
	return err
}

// NewStatus is a process's status as it starts.
func NewStatus(ctx workflow.Context, kind, wiki, requester string, result map[string]string) *process.Status {
	if result == nil {
		result = map[string]string{}
	}
	return &process.Status{
		ID: workflow.GetInfo(ctx).WorkflowExecution.ID, Kind: kind, State: process.StateRunning,
		Wiki: wiki, Requester: requester, Started: workflow.Now(ctx), Result: result,
	}
}
