package workflows

import "github.com/wikiflow/wikiflow/process"

// Details is the engine's details of a status for the Web UI, for the
// external tests.
func Details(st *process.Status) string { return (&engine{st: st}).details() }
