package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/wikiflow/wikiflow/process"
)

// Checked answers the checked update, which a client sends with the start
// (Update-with-Start): in the same round trip it learns whether the process
// took its request (the checks passed: a gate is open or the steps run) or
// refused it, with the status at that moment.
type Checked struct {
	st       *process.Status
	accepted bool
	ended    bool
}

// ListenChecked registers the checked update. Call it before anything
// blocks, so that the update arriving with the start is taken in the
// workflow's first task.
func ListenChecked(ctx workflow.Context, st *process.Status) (*Checked, error) {
	c := &Checked{st: st}
	return c, workflow.SetUpdateHandler(ctx, process.UpdateChecked, func(ctx workflow.Context) (process.Status, error) {
		if err := workflow.Await(ctx, func() bool { return c.accepted || c.ended }); err != nil {
			return process.Status{}, err
		}
		return *c.st, nil
	})
}

// Accept says the request passed its checks.
func (c *Checked) Accept() { c.accepted = true }

// End says the process's own work is over (refused or failed, if it was
// never accepted); the update answers with the status as it is.
func (c *Checked) End() { c.ended = true }
