// Package workflows is the shared core of the farm's processes: the step
// engine, the approval gate, retry budgets and the helpers every process's
// workflow begins and ends with. Each process lives in a folder of its own
// below (createwiki, deletewiki, changesetting, requestwiki, restorewiki),
// with its workflow, definition and activities; the replay tests of their
// recorded histories are here.
package workflows
