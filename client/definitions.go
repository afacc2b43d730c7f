package client

import (
	"fmt"
	"time"

	"github.com/wikiflow/wikiflow/config"
	"github.com/wikiflow/wikiflow/process"
	"github.com/wikiflow/wikiflow/workflows/createwiki"
)

// extraSteps turns the farm's configured steps into step definitions,
// refusing activities that are not step activities.
func extraSteps(cfg []config.ExtraStep, budget time.Duration) ([]createwiki.ExtraStep, error) {
	var out []createwiki.ExtraStep
	for _, s := range cfg {
		if !contains(createwiki.StepActivities, s.Activity) {
			return nil, &UsageError{Msg: fmt.Sprintf("processes.create_wiki_extra_steps: step %q: unknown activity %q", s.Name, s.Activity)}
		}
		out = append(out, createwiki.ExtraStep{
			StepDef: process.StepDef{
				Name: s.Name, Activity: s.Activity, Requires: s.Requires, Critical: s.Critical, Params: s.Params,
				// The farm's steps ride out outages like the built-in ones; a
				// configured maximum_attempts bounds them further.
				Retry:        withAttempts(process.TransientRetry(budget), s.MaximumAttempts),
				StartToClose: s.Timeout,
			},
			Before: s.Before,
		})
	}
	return out, nil
}

// withAttempts bounds a policy to attempts as well, when attempts is set.
func withAttempts(r process.RetryDef, attempts int32) process.RetryDef {
	if attempts > 0 {
		r.MaximumAttempts = attempts
	}
	return r
}
